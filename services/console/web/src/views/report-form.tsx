/** An NGO's report, typed in the browser: the person's name and date of birth become tokens
here (as the SDK makes them) and only the tokens are sent to intake. */

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, call } from "../api.ts";
import { IdentityInputError } from "../identity/rules.ts";
import { tokeniseIdentities } from "../identity/tokens.ts";
import { t } from "../i18n/index.ts";
import {
  type ChargeRow,
  type Draft,
  emptyDraft,
  errorsByField,
  FACILITY_KINDS,
  INCIDENT_TYPES,
  LEGAL_BASES,
  type Receipt,
  reportBody,
  SEXES,
  STATUSES,
  TLPS,
} from "../report.ts";
import { ErrorNote, Text, word } from "./common.tsx";

const RECEIPT_POLL_MS = 1500;
const RECEIPT_POLLS = 20;

type FieldErrors = Map<string, { path: string; reason: string }[]>;

function Field({
  name,
  label,
  errors,
  children,
}: {
  name: string;
  label?: string;
  errors: FieldErrors;
  children: (ids: { id: string; describedBy: string; invalid: boolean }) => ComponentChildren;
}) {
  const id = `f-${name.replace(/\./g, "-")}`;
  const mine = errors.get(name) ?? [];
  return (
    <div class="field">
      <label for={id}>{label ?? t(`field.${name}`)}</label>
      {children({
        id,
        describedBy: `${id}-help${mine.length ? ` ${id}-error` : ""}`,
        invalid: mine.length > 0,
      })}
      <p class="muted help" id={`${id}-help`}>
        {t(`report.help.${name}`)}
      </p>
      {mine.length > 0 && (
        <p class="error" id={`${id}-error`} data-field={name}>
          {t("report.field_refused")}{" "}
          {mine.map((f) => (
            <span key={f.path}>
              <Text value={`${f.path}: ${f.reason}`} />{" "}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}

function Choice({
  id,
  describedBy,
  invalid,
  name,
  value,
  options,
  wordKind,
  required,
  onChange,
}: {
  id: string;
  describedBy: string;
  invalid: boolean;
  name: string;
  value: string;
  options: readonly string[];
  wordKind: string | null;
  required?: boolean;
  onChange: (v: string) => void;
}) {
  return (
    <select
      id={id}
      name={name}
      value={value}
      required={required}
      aria-describedby={describedBy}
      aria-invalid={invalid}
      onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
    >
      {required && <option value="">{t("report.choose")}</option>}
      {options.map((o) => (
        <option key={o} value={o}>
          {wordKind ? word(wordKind, o) : o}
        </option>
      ))}
    </select>
  );
}

export function ReportForm() {
  const [draft, setDraft] = useState<Draft>(() => emptyDraft());
  const [name, setName] = useState("");
  const [dob, setDob] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>(new Map());
  const [accepted, setAccepted] = useState<{ id: string; duplicate: boolean } | null>(null);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  const setCharge = (i: number, key: keyof ChargeRow, value: string) =>
    set(
      "charges",
      draft.charges.map((c, j) => (j === i ? { ...c, [key]: value } : c)),
    );

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors(new Map());
    try {
      const [tokens] = await tokeniseIdentities(
        (path, opts) => call("sharing", path, opts),
        [[name, dob.trim() || null]],
      );
      const answer = await call<{ report_id: string; status: string }>(
        "intake",
        "/v1/reports",
        { method: "POST", body: reportBody(draft, tokens) },
      );
      setAccepted({ id: answer.report_id, duplicate: answer.status === "duplicate" });
      // The name was only ever in this form: forget it once the report is in.
      setName("");
      setDob("");
      setDraft(emptyDraft());
    } catch (failure) {
      if (failure instanceof ApiError && failure.fields.length) {
        setFieldErrors(errorsByField(failure.fields));
      }
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const identity = error instanceof IdentityInputError ? error : null;
  const text = (key: keyof Draft) => (e: Event) =>
    set(key, (e.target as HTMLInputElement).value as never);

  return (
    <section class="report-form">
      <h1 tabIndex={-1}>{t("report.title")}</h1>
      {accepted && <Accepted key={accepted.id} {...accepted} onClose={() => setAccepted(null)} />}
      <form class="stack" onSubmit={submit} noValidate>
        <fieldset class="stack">
          <legend>{t("report.person")}</legend>
          <p class="muted">{t("report.private")}</p>
          <Field name="subject" label={t("report.name")} errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="person-name"
                value={name}
                required
                autocomplete="off"
                spellcheck={false}
                aria-describedby={describedBy}
                aria-invalid={invalid || identity?.field === "name"}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <label for="person-dob">{t("report.dob")}</label>
          <input
            id="person-dob"
            name="person-dob"
            value={dob}
            autocomplete="off"
            inputMode="numeric"
            placeholder={t("watchlist.dob_hint")}
            aria-invalid={identity?.field === "dob"}
            onInput={(e) => setDob((e.target as HTMLInputElement).value)}
          />
          <label for="person-sex">{t("report.sex")}</label>
          <select
            id="person-sex"
            name="person-sex"
            value={draft.sex}
            onChange={(e) => set("sex", (e.target as HTMLSelectElement).value)}
          >
            {SEXES.map((s) => (
              <option key={s} value={s}>
                {t(`report.sex_${s}`)}
              </option>
            ))}
          </select>
          {identity && (
            <p class="error" role="alert">
              {t(`identity.${identity.code}`)}
            </p>
          )}
        </fieldset>

        <fieldset class="stack">
          <legend>{t("report.incident")}</legend>
          <Field name="incident_type" errors={fieldErrors}>
            {(ids) => (
              <Choice
                {...ids}
                name="incident_type"
                value={draft.incident_type}
                options={INCIDENT_TYPES}
                wordKind="incident"
                required
                onChange={(v) => set("incident_type", v)}
              />
            )}
          </Field>
          <Field name="legal_basis" errors={fieldErrors}>
            {(ids) => (
              <Choice
                {...ids}
                name="legal_basis"
                value={draft.legal_basis}
                options={LEGAL_BASES}
                wordKind="basis"
                onChange={(v) => set("legal_basis", v)}
              />
            )}
          </Field>
          <Field name="occurred_at" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="occurred_at"
                value={draft.occurred_at}
                required
                spellcheck={false}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("occurred_at")}
              />
            )}
          </Field>
          <Field name="place.country" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="place.country"
                value={draft.country}
                required
                maxLength={2}
                autocapitalize="characters"
                spellcheck={false}
                class="short"
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("country")}
              />
            )}
          </Field>
          <Field name="place.locality" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="place.locality"
                value={draft.locality}
                maxLength={200}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("locality")}
              />
            )}
          </Field>
          <Field name="place.facility_kind" errors={fieldErrors}>
            {(ids) => (
              <Choice
                {...ids}
                name="place.facility_kind"
                value={draft.facility_kind}
                options={FACILITY_KINDS}
                wordKind="facility"
                onChange={(v) => set("facility_kind", v)}
              />
            )}
          </Field>
          <Field name="detaining_authority" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="detaining_authority"
                value={draft.detaining_authority}
                maxLength={200}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("detaining_authority")}
              />
            )}
          </Field>
          <Field name="status" errors={fieldErrors}>
            {(ids) => (
              <Choice
                {...ids}
                name="status"
                value={draft.status}
                options={STATUSES}
                wordKind="report_status"
                onChange={(v) => set("status", v)}
              />
            )}
          </Field>
        </fieldset>

        <fieldset class="stack">
          <legend>{t("report.request")}</legend>
          <Field name="requesting_state" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="requesting_state"
                value={draft.requesting_state}
                maxLength={2}
                autocapitalize="characters"
                spellcheck={false}
                class="short"
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("requesting_state")}
              />
            )}
          </Field>
          <div class="field">
            <p id="charges-label" class="label">{t("field.charges")}</p>
            <p class="muted help" id="f-charges-help">
              {t("report.help.charges")}
            </p>
            {draft.charges.map((c, i) => (
              <div class="charge" key={i} role="group" aria-labelledby="charges-label">
                <label>
                  {t("report.charge_state")}
                  <input
                    name={`charges.${i}.state`}
                    value={c.state}
                    maxLength={2}
                    class="short"
                    onInput={(e) => setCharge(i, "state", (e.target as HTMLInputElement).value)}
                  />
                </label>
                <label>
                  {t("report.charge_code")}
                  <input
                    name={`charges.${i}.code`}
                    value={c.code}
                    maxLength={8}
                    class="short"
                    onInput={(e) => setCharge(i, "code", (e.target as HTMLInputElement).value)}
                  />
                </label>
                <label>
                  {t("report.charge_article")}
                  <input
                    name={`charges.${i}.article`}
                    value={c.article}
                    maxLength={12}
                    onInput={(e) => setCharge(i, "article", (e.target as HTMLInputElement).value)}
                  />
                </label>
                <button
                  type="button"
                  onClick={() =>
                    set(
                      "charges",
                      draft.charges.filter((_, j) => j !== i),
                    )
                  }
                >
                  {t("report.charge_remove", { n: String(i + 1) })}
                </button>
              </div>
            ))}
            {(fieldErrors.get("charges") ?? []).length > 0 && (
              <p class="error" data-field="charges">
                {t("report.field_refused")}{" "}
                {(fieldErrors.get("charges") ?? []).map((f) => (
                  <span key={f.path}>
                    <Text value={`${f.path}: ${f.reason}`} />{" "}
                  </span>
                ))}
              </p>
            )}
            {draft.charges.length < 20 && (
              <button
                type="button"
                onClick={() =>
                  set("charges", [...draft.charges, { state: "RU", code: "CC", article: "" }])
                }
              >
                {t("report.charge_add")}
              </button>
            )}
          </div>
        </fieldset>

        <fieldset class="stack">
          <legend>{t("report.sharing")}</legend>
          <Field name="tlp" errors={fieldErrors}>
            {(ids) => (
              <Choice
                {...ids}
                name="tlp"
                value={draft.tlp}
                options={TLPS}
                wordKind={null}
                onChange={(v) => set("tlp", v)}
              />
            )}
          </Field>
          <Field name="narrative" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <textarea
                id={id}
                name="narrative"
                rows={6}
                maxLength={20000}
                value={draft.narrative}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("narrative")}
              />
            )}
          </Field>
          <Field name="contact_instructions" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <textarea
                id={id}
                name="contact_instructions"
                rows={2}
                value={draft.contact_instructions}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("contact_instructions")}
              />
            )}
          </Field>
          <Field name="client_report_id" errors={fieldErrors}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                name="client_report_id"
                value={draft.client_report_id}
                maxLength={128}
                spellcheck={false}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={text("client_report_id")}
              />
            )}
          </Field>
        </fieldset>
        {fieldErrors.size > 0 ? (
          <p class="error" role="alert">
            {t("report.refused", { n: String(fieldErrors.size) })}{" "}
            {(fieldErrors.get("report") ?? []).map((f) => (
              <span key={f.path}>
                <Text value={f.reason} />{" "}
              </span>
            ))}
          </p>
        ) : (
          !identity && <ErrorNote error={error} />
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("common.working") : t("report.submit")}
        </button>
      </form>
    </section>
  );
}

/** The report id and its receipt, polled until sharing has stored it. */
function Accepted({ id, duplicate, onClose }: { id: string; duplicate: boolean; onClose: () => void }) {
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (left: number) => {
      try {
        const next = await call<Receipt>("intake", `/v1/reports/${encodeURIComponent(id)}/receipt`);
        if (stop) return;
        setReceipt(next);
        if (next.status === "stored" || left <= 0) return;
      } catch (failure) {
        if (!stop) setError(failure);
        return;
      }
      timer = setTimeout(() => void poll(left - 1), RECEIPT_POLL_MS);
    };
    void poll(RECEIPT_POLLS);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [id]);
  return (
    <div class="issued" role="status" aria-live="polite">
      <p class="ok">{duplicate ? t("report.duplicate") : t("report.accepted")}</p>
      <p>
        {t("report.id")} <code class="report-id">{id}</code>
      </p>
      <p>
        {t("report.receipt")}{" "}
        <strong class="receipt-status" data-status={receipt?.status ?? ""}>
          {receipt ? t(`receipt.${receipt.status}`) : t("common.loading")}
        </strong>
      </p>
      <ErrorNote error={error} />
      <div class="actions">
        <a href="/reports">{t("report.to_list")}</a>
        <button type="button" onClick={onClose}>
          {t("report.another")}
        </button>
      </div>
    </div>
  );
}
