/** The organisation's escalation timing: everyone with alerts sees it; those allowed edit it. */

import { useEffect, useState } from "preact/hooks";
import { ApiError, call, currentSession } from "../api.ts";
import { t } from "../i18n/index.ts";
import type { Escalation } from "../types.ts";
import { ErrorNote, Row, Text, word } from "./common.tsx";
import { FeedbackFigures } from "./feedback.tsx";

const NUMBERS = [
  "escalate_after_minutes",
  "duty_after_minutes",
  "repeat_every_minutes",
  "max_repeats",
] as const;
type Numbers = Record<(typeof NUMBERS)[number], number>;

export function EscalationSettings() {
  const [settings, setSettings] = useState<Escalation | null>(null);
  const [draft, setDraft] = useState<Numbers | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const canEdit = currentSession()?.scopes().has("escalation:manage") ?? false;

  useEffect(() => {
    call<Escalation>("alerts", "/v1/organisation/escalation")
      .then((found) => {
        setSettings(found);
        setDraft(found);
      })
      .catch(setError);
  }, []);

  if (error instanceof ApiError && error.status === 403) return null; // not this role's to see
  if (!settings || !draft) return <ErrorNote error={error} />;

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    try {
      const body = {
        ...Object.fromEntries(NUMBERS.map((n) => [n, draft[n]])),
        // Kept as they are (their secrets and keys stay on the server).
        duty_contacts: settings.duty_contacts.map((c) => ({
          channel: c.channel,
          address: c.address,
          name: c.name,
        })),
      };
      const next = await call<Escalation>("alerts", "/v1/organisation/escalation", {
        method: "PUT",
        body,
      });
      setSettings(next);
      setDraft(next);
      setSaved(true);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="escalation">
      <h2>{t("escalation.title")}</h2>
      <ErrorNote error={error} />
      <form class="stack" onSubmit={submit}>
        {NUMBERS.map((name) => (
          <label key={name}>
            {t(`escalation.${name}`)}
            <input
              type="number"
              inputMode="numeric"
              min={name === "max_repeats" ? 0 : 1}
              value={draft[name]}
              readOnly={!canEdit}
              onInput={(e) =>
                setDraft({ ...draft, [name]: Number((e.target as HTMLInputElement).value) })
              }
            />
          </label>
        ))}
        {canEdit ? (
          <button type="submit">{t("escalation.save")}</button>
        ) : (
          <p class="muted">{t("escalation.read_only")}</p>
        )}
        {saved && <p role="status">{t("escalation.saved")}</p>}
      </form>
      <h3>{t("escalation.duty")}</h3>
      {settings.duty_contacts.length === 0 ? (
        <p class="muted">{t("escalation.no_duty")}</p>
      ) : (
        <dl>
          {settings.duty_contacts.map((c) => (
            <Row label={word("channel", c.channel)} key={c.id}>
              <Text value={c.name ? `${c.name} — ${c.address}` : c.address} />
            </Row>
          ))}
        </dl>
      )}
      <FeedbackFigures />
    </section>
  );
}
