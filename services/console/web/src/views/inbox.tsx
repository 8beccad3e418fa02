/** The lawyer's alerts, newest first, by status; new alerts appear by themselves. */

import { useRef, useState } from "preact/hooks";
import { call } from "../api.ts";
import { usePoll } from "../hooks.ts";
import { t, when } from "../i18n/index.ts";
import { type Alert, type AlertPage, newIds } from "../types.ts";
import { ErrorNote, Text, word } from "./common.tsx";
import { UnreachableBanner } from "./contacts.tsx";
import { Heading } from "./heading.tsx";

const TABS = ["open", "acknowledged", "resolved"] as const;
type Tab = (typeof TABS)[number];
/** Well inside the 5 s within which a new alert must show. */
export const INBOX_POLL_MS = 2500;

export function Inbox() {
  const [tab, setTab] = useState<Tab>("open");
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [news, setNews] = useState("");
  const seen = useRef<Set<string> | null>(null);

  usePoll(
    async (signal) => {
      try {
        const page = await call<AlertPage>("alerts", `/v1/alerts?status=${tab}&limit=100`, {
          signal,
        });
        if (signal.aborted) return;
        const fresh = tab === "open" ? newIds(seen.current, page.alerts) : [];
        if (fresh.length) setNews(t("inbox.new", { count: fresh.length, label: fresh[0].label }));
        if (tab === "open") {
          seen.current = new Set(page.alerts.map((a) => a.id));
          document.title = page.alerts.length ? `(${page.alerts.length}) Lifeline` : "Lifeline";
        }
        setAlerts(page.alerts);
        setError(null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    INBOX_POLL_MS,
    [tab],
  );

  const choose = (next: Tab) => {
    if (next === tab) return;
    setAlerts(null);
    setTab(next);
  };

  return (
    <section>
      <Heading>{t("inbox.title")}</Heading>
      <UnreachableBanner />
      <div class="tabs" role="group" aria-label={t("inbox.filter")}>
        {TABS.map((name) => (
          <button
            type="button"
            key={name}
            aria-pressed={tab === name}
            onClick={() => choose(name)}
          >
            {t(`tab.${name}`)}
          </button>
        ))}
      </div>
      <p class="visually-hidden" role="status" aria-live="polite">
        {news}
      </p>
      <ErrorNote error={error} />
      {alerts === null ? (
        <p aria-busy="true">{t("common.loading")}</p>
      ) : alerts.length === 0 ? (
        <p class="muted">{t(`inbox.empty.${tab}`)}</p>
      ) : (
        <ul class="alerts">
          {alerts.map((a) => (
            <li key={a.id} class={`alert priority-${a.priority}`} data-alert-id={a.id}>
              <a href={`/alerts/${encodeURIComponent(a.id)}`}>
                <span class="badge">{word("priority", a.priority)}</span>
                <strong class="label">
                  <Text value={a.label} />
                </strong>
                <span class="summary">
                  {a.restricted && !a.incident_type
                    ? t("alert.restricted_short")
                    : [word("incident", a.incident_type), word("basis", a.legal_basis), a.country]
                        .filter(Boolean)
                        .join(" · ")}
                </span>
                <time dateTime={a.created_at}>{when(a.created_at)}</time>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
