/** An NGO's report, typed in the browser: the person's name and date of birth become tokens
here (as the SDK makes them) and only the tokens are sent to intake. A follow-up (`follows`)
names the earlier report instead of the person, and says where the case stands now. */

import { useState } from "preact/hooks";
import { ApiError, call } from "../api.ts";
import { IdentityInputError } from "../identity/rules.ts";
import { tokeniseIdentities } from "../identity/tokens.ts";
import { t } from "../i18n/index.ts";
import { type Draft, emptyDraft, errorsByField, reportBody, SEXES } from "../report.ts";
import { ErrorNote, Text } from "./common.tsx";
import {
  Charges,
  DraftField,
  Field,
  type FieldErrors,
  INCIDENT,
  REQUEST,
  SHARING,
  type Spec,
} from "./report-fields.tsx";
import { Accepted } from "./report-receipt.tsx";
import { FollowUpHeader } from "./followups.tsx";

const start = (follows: string | null): Draft =>
  follows ? { ...emptyDraft(), follows, status: "" } : emptyDraft();

export function ReportForm({ follows = null }: { follows?: string | null }) {
  const [draft, setDraft] = useState<Draft>(() => start(follows));
  const [name, setName] = useState("");
  const [dob, setDob] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>(new Map());
  const [accepted, setAccepted] = useState<{ id: string; duplicate: boolean } | null>(null);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors(new Map());
    try {
      // A follow-up is about the person of the report it follows: no name, no tokens.
      const [tokens] = follows
        ? [null]
        : await tokeniseIdentities(
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
      setDraft(start(follows));
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
  const fields = (specs: Spec[]) =>
    // A follow-up's status is asked for at its top, not again among the incident's fields.
    specs
      .filter((spec) => !(follows && spec.name === "status"))
      .map((spec) => (
        <DraftField
          key={spec.name}
          spec={spec}
          draft={draft}
          errors={fieldErrors}
          onChange={(key, value) => set(key, value)}
        />
      ));

  return (
    <section class="report-form">
      <h1 tabIndex={-1}>{follows ? t("followup.title") : t("report.title")}</h1>
      {!follows && (
        <p>
          <a href="/reports/upload">{t("upload.reports.link")}</a>
        </p>
      )}
      {accepted && <Accepted key={accepted.id} {...accepted} onClose={() => setAccepted(null)} />}
      <form class="stack" onSubmit={submit} noValidate>
        {follows && (
          <FollowUpHeader
            follows={follows}
            status={draft.status}
            errors={fieldErrors}
            error={error}
            onStatus={(status) => set("status", status)}
          />
        )}
        {/* A follow-up is about the original's person: no name, date of birth or sex here. */}
        {!follows && <fieldset class="stack">
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
        </fieldset>}

        <fieldset class="stack">
          <legend>{t("report.incident")}</legend>
          {fields(INCIDENT)}
        </fieldset>

        <fieldset class="stack">
          <legend>{t("report.request")}</legend>
          {fields(REQUEST)}
          <Charges
            rows={draft.charges}
            errors={fieldErrors}
            onChange={(rows) => set("charges", rows)}
          />
        </fieldset>

        <fieldset class="stack">
          <legend>{t("report.sharing")}</legend>
          {fields(SHARING)}
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
