/** Follow-ups: the report form's header for one (which report it follows, where the case
stands now) and the updates a lawyer's alert received from them. */

import { ApiError } from "../api.ts";
import { t, when } from "../i18n/index.ts";
import { STATUSES } from "../report.ts";
import type { AlertDetail } from "../types.ts";
import { ErrorNote } from "./common.tsx";
import { Field, type FieldErrors } from "./report-fields.tsx";

// Intake's refusals of the link itself (`docs/intake.md`, "Follow-ups"): shown where it is named.
const LINK_REFUSED = new Set(["unknown_original", "original_erased"]);

/** The follow-up's own part of the report form: no name or date of birth, a status instead. */
export function FollowUpHeader({
  follows,
  status,
  errors,
  error,
  onStatus,
}: {
  follows: string;
  status: string;
  errors: FieldErrors;
  error: unknown;
  onStatus: (status: string) => void;
}) {
  const refused = error instanceof ApiError && LINK_REFUSED.has(error.code) ? error : null;
  return (
    <fieldset class="stack followup">
      <legend>{t("followup.title")}</legend>
      <p>{t("followup.of", { id: follows })}</p>
      <ErrorNote error={refused} />
      <Field name="status" label={t("followup.status")} errors={errors}>
        {({ id, describedBy, invalid }) => (
          <select
            id={id}
            name="status"
            required
            value={status}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => onStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="">{t("followup.choose")}</option>
            {STATUSES.filter((s) => s !== "unknown").map((s) => (
              <option key={s} value={s}>
                {t(`report_status.${s}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <p class="muted">{t("followup.status_help")}</p>
    </fieldset>
  );
}

/** What follow-ups of the alert's report said, oldest first. */
export function Updates({ alert }: { alert: AlertDetail }) {
  const updates = alert.updates ?? [];
  if (!updates.length) return null;
  return (
    <section class="updates">
      <h2>{t("followup.updates")}</h2>
      <ol class="cards">
        {updates.map((u) => (
          <li key={u.report_id} data-update={u.report_id}>
            <time dateTime={u.at}>{when(u.at)}</time> ·{" "}
            {u.status ? (
              <strong class="case-status" data-status={u.status}>
                {t(`report_status.${u.status}`)}
              </strong>
            ) : (
              <span class="muted">{t("followup.status_hidden")}</span>
            )}
            {u.reopened && <span class="badge priority-high"> {t("followup.reopened")}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
