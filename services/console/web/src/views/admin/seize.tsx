/** Seizing a client or a partner: what it does in plain words, a reason, and the target typed
back exactly before the button works; then what was taken. */

import { useState } from "preact/hooks";
import { call } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { ErrorNote } from "../common.tsx";
import { path } from "./model.ts";
import { confirmed, type Seizure } from "./security-model.ts";
import { Taken } from "./seizures.tsx";

// What a seizure does, as docs/auth.md §8 tabulates it (a client's seizure keeps the partner's
// grants: its other clients still use them).
const CUTS = ["keys", "delivery", "grants", "pending"];

export function Seize(props: { kind: "client" | "partner"; id: string; name: string | null }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Seizure | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ready = confirmed(typed, { id: props.id, name: props.name }) && reason.trim() !== "";

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const body = { [`${props.kind}_id`]: props.id, reason: reason.trim() };
      setDone(await call<Seizure>("sharing", "/v1/admin/seizures", { method: "POST", body }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <section class="seize warning" data-seizure-id={done.id}>
        <h2>{t("seize.done")}</h2>
        <p role="status">{t(`seize.done_${props.kind}`)}</p>
        <Taken counts={done.counts} />
        <p>
          <a href={`/admin/seizures/${path(done.id)}`}>{t("seize.open", { id: done.id })}</a>
        </p>
      </section>
    );
  }
  if (!open) {
    return (
      <p>
        <button type="button" class="danger" onClick={() => setOpen(true)}>
          {t(`seize.start_${props.kind}`)}
        </button>
      </p>
    );
  }
  const target = props.name ?? props.id;
  return (
    <form class="stack seize warning" onSubmit={submit} aria-labelledby="seize-heading">
      <h2 id="seize-heading">{t(`seize.heading_${props.kind}`)}</h2>
      <p>{t(`seize.explain_${props.kind}`)}</p>
      <ul>
        {CUTS.map((what) => (
          <li key={what}>{t(`seize.cuts_${what}_${props.kind}`)}</li>
        ))}
        <li>{t("seize.stays_revoked")}</li>
      </ul>
      <label>
        {t("seize.reason")}
        <textarea
          name="reason"
          rows={3}
          maxLength={1000}
          required
          value={reason}
          onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <label>
        {t("seize.type_target", { target })}
        <input
          name="confirmation"
          autocomplete="off"
          spellcheck={false}
          value={typed}
          aria-describedby="seize-target"
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
      </label>
      <p id="seize-target" class="muted small">
        {t("seize.target_is", { name: target, id: props.id })}
      </p>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="danger" disabled={!ready || busy}>
          {busy ? t("common.working") : t("seize.submit")}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t("seize.cancel")}
        </button>
      </div>
    </form>
  );
}
