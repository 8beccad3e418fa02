/** A report's per-report grants (sharing's `GET /v1/reports/{id}/grants`) and, with
`reports:manage`, granting fields of it to another partner after a confirmation in words. */

import { useState } from "preact/hooks";
import { ApiError, call, callAll } from "../api.ts";
import { language, t, when } from "../i18n/index.ts";
import { ErrorNote, Text } from "./common.tsx";
import {
  GRANT_ROLES,
  GRANTABLE_FIELDS,
  type Grant,
  grantBody,
  listText,
  orderedFields,
  partnerIdFrom,
} from "./grants-model.ts";

const fieldLabel = (f: string) => t(`field.${f}`);
const roleLabel = (role: string | null) => t(`policy.role.${role || "*"}`);

/** "The lawyers of partner ptn_…", for the confirmation. */
function whoText(partner: string, role: string): string {
  return t(`grants.who.${role || "any"}`, { partner });
}

/** Why sharing refused the partner id, when it names it; else null (shown as an error). */
function partnerRefusal(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const named = error.fields.find((f) => f.path === "partner_id");
  if (!named) return null;
  return named.reason === "unknown" ? t("grants.partner_unknown") : t("grants.partner_self");
}

function GrantForm({ id, onGranted }: { id: string; onGranted: (g: Grant) => void }) {
  const [typed, setTyped] = useState("");
  const [fields, setFields] = useState<Set<string>>(new Set());
  const [role, setRole] = useState("");
  const [checked, setChecked] = useState(false);
  const [review, setReview] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const partner = partnerIdFrom(typed);
  const chosen = orderedFields(fields);
  const partnerNote = checked && !partner ? t("grants.partner_bad") : partnerRefusal(error);
  const fieldsNote = checked && chosen.length === 0 ? t("grants.fields_none") : null;

  const toggle = (f: string, on: boolean) => {
    const next = new Set(fields);
    if (on) next.add(f);
    else next.delete(f);
    setFields(next);
  };
  const toReview = (event: Event) => {
    event.preventDefault();
    setChecked(true);
    setError(null);
    // Caught here, before anything is sent: a malformed id or no field.
    if (partner && chosen.length > 0) setReview(true);
  };
  const grant = async () => {
    if (!partner) return;
    setBusy(true);
    setError(null);
    try {
      const made = await call<Grant>("sharing", `/v1/reports/${encodeURIComponent(id)}/grants`, {
        method: "POST",
        body: grantBody(partner, chosen, role),
      });
      onGranted(made);
      setTyped("");
      setFields(new Set());
      setRole("");
      setChecked(false);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
      setReview(false);
    }
  };

  const inputId = `grant-partner-${id}`;
  if (review && partner) {
    return (
      <div class="grant-review" role="group" aria-label={t("grants.review")}>
        <p class="grant-sentence">
          {t("grants.confirm", {
            who: whoText(partner, role),
            id,
            fields: listText(chosen.map(fieldLabel), language()),
          })}
        </p>
        <p class="muted">{t("grants.no_undo")}</p>
        <div class="actions">
          <button type="button" disabled={busy} onClick={grant}>
            {busy ? t("common.working") : t("grants.grant")}
          </button>
          <button type="button" disabled={busy} onClick={() => setReview(false)}>
            {t("grants.back")}
          </button>
        </div>
      </div>
    );
  }
  return (
    <form class="grant-form" onSubmit={toReview} noValidate>
      <label for={inputId}>{t("grants.partner")}</label>
      <input
        id={inputId}
        value={typed}
        autocomplete="off"
        spellcheck={false}
        aria-invalid={partnerNote ? "true" : undefined}
        aria-describedby={`${inputId}-help`}
        onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
      />
      <p id={`${inputId}-help`} class="muted">
        {t("grants.partner_help")}
      </p>
      {partnerNote && (
        <p class="error" role="alert">
          {partnerNote}
        </p>
      )}
      <fieldset>
        <legend>{t("grants.fields")}</legend>
        {GRANTABLE_FIELDS.map((f) => (
          <label key={f} class="check">
            <input
              type="checkbox"
              checked={fields.has(f)}
              onChange={(e) => toggle(f, (e.target as HTMLInputElement).checked)}
            />{" "}
            {fieldLabel(f)}
          </label>
        ))}
        {fieldsNote && (
          <p class="error" role="alert">
            {fieldsNote}
          </p>
        )}
      </fieldset>
      <label for={`${inputId}-role`}>{t("grants.role")}</label>
      <select
        id={`${inputId}-role`}
        value={role}
        onChange={(e) => setRole((e.target as HTMLSelectElement).value)}
      >
        {GRANT_ROLES.map((r) => (
          <option key={r} value={r}>
            {roleLabel(r)}
          </option>
        ))}
      </select>
      {!partnerRefusal(error) && <ErrorNote error={error} />}
      <div class="actions">
        <button type="submit">{t("grants.review")}</button>
      </div>
    </form>
  );
}

/** The grants of one report, loaded when opened; the form for whoever may grant. */
export function Grants({ id, manage }: { id: string; manage: boolean }) {
  const [grants, setGrants] = useState<Grant[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const load = async (event: Event) => {
    if (!(event.currentTarget as HTMLDetailsElement).open || grants) return;
    try {
      setGrants(await callAll<Grant>("sharing", `/v1/reports/${encodeURIComponent(id)}/grants`));
    } catch (failure) {
      setError(failure);
    }
  };
  const granted = (g: Grant) => {
    setGrants([...(grants ?? []), g]);
    setDone(true);
  };
  return (
    <details class="grants" onToggle={load}>
      <summary>{t("grants.title")}</summary>
      {grants === null && !error && <p>{t("common.loading")}</p>}
      {grants?.length === 0 && <p class="muted">{t("grants.none")}</p>}
      {grants && grants.length > 0 && (
        <ul class="grant-list">
          {grants.map((g) => (
            <li key={g.id} data-grant={g.id}>
              <code>{g.partner_id}</code> · {roleLabel(g.role)} ·{" "}
              <time dateTime={g.created_at}>{when(g.created_at)}</time>
              <br />
              <span class="muted">{g.fields.map(fieldLabel).join(", ")}</span>
              <br />
              <span class="muted">
                {t("grants.by")} <Text value={g.created_by} />
              </span>
            </li>
          ))}
        </ul>
      )}
      {done && (
        <p class="ok" role="status">
          {t("grants.done")}
        </p>
      )}
      <ErrorNote error={error} />
      {manage && grants !== null && <GrantForm id={id} onGranted={granted} />}
    </details>
  );
}
