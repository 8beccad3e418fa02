/** Resolving an alert: an outcome and a note (a second resolve corrects the first). */

import { useState } from "preact/hooks";
import { call } from "../api.ts";
import { t, when } from "../i18n/index.ts";
import { type Alert, OUTCOMES, type Outcome } from "../types.ts";
import { ErrorNote, Text } from "./common.tsx";

const NOTE_MAX = 2000;

export function Resolve(props: { alert: Alert; onResolved: (a: Alert) => void }) {
  const { alert } = props;
  const resolution = alert.resolution ?? null;
  const [outcome, setOutcome] = useState<Outcome | "">(resolution?.outcome ?? "");
  const [note, setNote] = useState(resolution?.note ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!outcome) return;
    setBusy(true);
    setSaved(false);
    try {
      const next = await call<Alert>("alerts", `/v1/alerts/${encodeURIComponent(alert.id)}/resolve`, {
        method: "POST",
        body: { outcome, note: note.trim() || null },
      });
      props.onResolved(next);
      setError(null);
      setSaved(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="resolve">
      <h2>{t("resolve.title")}</h2>
      {resolution && (
        <p>
          {t("resolve.current", {
            outcome: t(`outcome.${resolution.outcome}`),
            by: resolution.by,
            at: when(resolution.at),
          })}
          {resolution.note && (
            <>
              <br />
              <Text value={resolution.note} />
            </>
          )}
        </p>
      )}
      <form onSubmit={submit} class="stack">
        <label>
          {t("resolve.outcome")}
          <select
            name="outcome"
            value={outcome}
            required
            onChange={(e) => setOutcome((e.target as HTMLSelectElement).value as Outcome)}
          >
            <option value="">{t("resolve.choose")}</option>
            {OUTCOMES.map((o) => (
              <option value={o} key={o}>
                {t(`outcome.${o}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("resolve.note")}
          <textarea
            name="note"
            rows={3}
            maxLength={NOTE_MAX}
            value={note}
            onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <ErrorNote error={error} />
        {saved && <p role="status">{t("resolve.saved")}</p>}
        <button type="submit" disabled={busy || !outcome}>
          {resolution ? t("resolve.change") : t("resolve.submit")}
        </button>
      </form>
    </section>
  );
}
