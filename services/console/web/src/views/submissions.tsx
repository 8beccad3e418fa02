/** The partner's submissions with their receipts from intake (`GET /v1/reports`), and, for a
client that may read reports, who read each (sharing's `GET /v1/reports/{id}/reads`) and the
partners it was granted to (`…/grants`; granting with `reports:manage`). */

import { useState } from "preact/hooks";
import { call, callAll, callPage, currentSession } from "../api.ts";
import { usePoll } from "../hooks.ts";
import { t, when } from "../i18n/index.ts";
import type { Read, Receipt } from "../report.ts";
import { AwaitingApproval } from "./admin/awaiting.tsx";
import { ErrorNote, Text } from "./common.tsx";
import { Grants } from "./grants.tsx";

const POLL_MS = 5000;
const PAGE = 50;

/** Erasing a report (crypto-shredding its data key in sharing), after a confirmation; where
the network asks a second operator to approve erasures, it waits for that approval. */
function Erase({ id }: { id: string }) {
  const [state, setState] = useState<"idle" | "busy" | "erased">("idle");
  const [waiting, setWaiting] = useState<{ id: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const erase = async () => {
    if (!confirm(t("submissions.erase_confirm", { id }))) return;
    setState("busy");
    setError(null);
    try {
      const answer = await call<{ erased_at?: string; approval?: { id: string } }>(
        "sharing",
        `/v1/reports/${encodeURIComponent(id)}`,
        { method: "DELETE" },
      );
      if (answer.approval) setWaiting(answer.approval);
      else setState("erased");
    } catch (failure) {
      setError(failure);
      setState("idle");
    }
  };
  if (state === "erased") return <p class="ok">{t("submissions.erased")}</p>;
  if (waiting) return <AwaitingApproval approval={waiting} />;
  return (
    <div>
      <button type="button" disabled={state === "busy"} onClick={erase}>
        {state === "busy" ? t("common.working") : t("submissions.erase")}
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

function Reads({ id }: { id: string }) {
  const [reads, setReads] = useState<Read[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (event: Event) => {
    if (!(event.currentTarget as HTMLDetailsElement).open || reads) return;
    try {
      setReads(await callAll<Read>("sharing", `/v1/reports/${encodeURIComponent(id)}/reads`));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <details onToggle={load}>
      <summary>{t("submissions.reads")}</summary>
      {reads === null && !error && <p>{t("common.loading")}</p>}
      {reads?.length === 0 && <p class="muted">{t("submissions.no_reads")}</p>}
      {reads && reads.length > 0 && (
        <ul class="reads">
          {reads.map((r) => (
            <li key={r.id}>
              <Text value={r.reader_partner} /> · <Text value={r.role} /> ·{" "}
              <time dateTime={r.read_at}>{when(r.read_at)}</time>
              <br />
              <span class="muted">
                {r.fields.map((f) => t(`field.${f}`) || f).join(", ")}
              </span>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={error} />
    </details>
  );
}

export function Submissions() {
  const [receipts, setReceipts] = useState<Receipt[] | null>(null);
  const [older, setOlder] = useState<Receipt[]>([]);
  // The page after the last one shown (its `Link: rel="next"`), null when there is none.
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const scopes = currentSession()?.scopes() ?? new Set<string>();
  const readable = scopes.has("reports:read");
  const erasable = scopes.has("reports:manage");

  usePoll(
    async (signal) => {
      try {
        const page = await callPage<Receipt[]>("intake", `/v1/reports?limit=${PAGE}`, { signal });
        setReceipts(page.body);
        if (older.length === 0) setNext(page.next);
        setError(null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [],
  );

  const showMore = async () => {
    if (next === null) return;
    try {
      const page = await callPage<Receipt[]>("intake", next);
      setOlder([...older, ...page.body]);
      setNext(page.next);
    } catch (failure) {
      setError(failure);
    }
  };

  const seen = new Set<string>();
  const all = [...(receipts ?? []), ...older].filter((r) =>
    seen.has(r.report_id) ? false : (seen.add(r.report_id), true),
  );
  return (
    <section>
      <h1 tabIndex={-1}>{t("submissions.title")}</h1>
      <p>
        <a href="/reports/new">{t("nav.report")}</a>
      </p>
      {!readable && <p class="muted">{t("submissions.reads_hidden")}</p>}
      <ErrorNote error={error} />
      {receipts === null && !error && <p>{t("common.loading")}</p>}
      {receipts !== null && all.length === 0 && <p>{t("submissions.empty")}</p>}
      {all.length > 0 && (
        <ul class="cards submissions">
          {all.map((r) => (
            <li key={r.report_id} data-report={r.report_id}>
              <p>
                <code class="report-id">{r.report_id}</code>
              </p>
              <p>
                {t("submissions.reference")} <Text value={r.client_report_id} />
              </p>
              {r.follows && (
                <p class="muted">{t("followup.follows", { id: r.follows })}</p>
              )}
              <p>
                <strong class="receipt-status" data-status={r.status}>
                  {t(`receipt.${r.status}`)}
                </strong>{" "}
                · <time dateTime={r.received_at}>{when(r.received_at)}</time>
              </p>
              {!r.erased_at && (
                <p>
                  <a href={`/reports/new?follows=${encodeURIComponent(r.report_id)}`}>
                    {t("followup.action")}
                  </a>
                </p>
              )}
              {readable && <Reads id={r.report_id} />}
              {readable && r.status === "stored" && (
                <Grants id={r.report_id} manage={erasable} />
              )}
              {erasable && <Erase id={r.report_id} />}
            </li>
          ))}
        </ul>
      )}
      {next !== null && (
        <button type="button" onClick={showMore}>
          {t("submissions.more")}
        </button>
      )}
    </section>
  );
}
