/** The report form's fields: one spec per catalogue field, rendered with its label, help and
the reasons intake refused it. Adding a field to the form is one spec. */

import type { ComponentChildren } from "preact";
import { t } from "../i18n/index.ts";
import {
  type ChargeRow,
  type Draft,
  FACILITY_KINDS,
  INCIDENT_TYPES,
  LEGAL_BASES,
  STATUSES,
  TLPS,
} from "../report.ts";
import { Text, word } from "./common.tsx";

export type FieldErrors = Map<string, { path: string; reason: string }[]>;
type TextKey = Exclude<keyof Draft, "charges">;

/** One field of the form: its catalogue name, where the draft keeps it, and its control. */
export type Spec = { name: string; key: TextKey; required?: boolean } & (
  | { kind: "text"; max?: number; code?: boolean; short?: boolean }
  | { kind: "long"; rows: number; max?: number }
  | { kind: "choice"; options: readonly string[]; words: string | null }
);

export const INCIDENT: Spec[] = [
  { name: "incident_type", key: "incident_type", kind: "choice", options: INCIDENT_TYPES,
    words: "incident", required: true },
  { name: "legal_basis", key: "legal_basis", kind: "choice", options: LEGAL_BASES, words: "basis" },
  { name: "occurred_at", key: "occurred_at", kind: "text", code: true, required: true },
  { name: "place.country", key: "country", kind: "text", max: 2, code: true, short: true,
    required: true },
  { name: "place.locality", key: "locality", kind: "text", max: 200 },
  { name: "place.facility_kind", key: "facility_kind", kind: "choice", options: FACILITY_KINDS,
    words: "facility" },
  { name: "detaining_authority", key: "detaining_authority", kind: "text", max: 200 },
  { name: "status", key: "status", kind: "choice", options: STATUSES, words: "report_status" },
];
export const REQUEST: Spec[] = [
  { name: "requesting_state", key: "requesting_state", kind: "text", max: 2, code: true,
    short: true },
];
export const SHARING: Spec[] = [
  { name: "tlp", key: "tlp", kind: "choice", options: TLPS, words: null },
  { name: "narrative", key: "narrative", kind: "long", rows: 6, max: 20000 },
  { name: "contact_instructions", key: "contact_instructions", kind: "long", rows: 2 },
  { name: "client_report_id", key: "client_report_id", kind: "text", max: 128, code: true },
];

/** Why intake refused a field, each reason as the server wrote it (shown as text). */
export function Refused({ name, id, errors }: { name: string; id?: string; errors: FieldErrors }) {
  const mine = errors.get(name) ?? [];
  if (!mine.length) return null;
  return (
    <p class="error" id={id} data-field={name}>
      {t("report.field_refused")}{" "}
      {mine.map((f) => (
        <span key={f.path}>
          <Text value={`${f.path}: ${f.reason}`} />{" "}
        </span>
      ))}
    </p>
  );
}

interface Ids {
  id: string;
  describedBy: string;
  invalid: boolean;
}

/** A labelled field with its help text and refusals; `children` draws the control. */
export function Field(props: {
  name: string;
  label?: string;
  errors: FieldErrors;
  children: (ids: Ids) => ComponentChildren;
}) {
  const id = `f-${props.name.replace(/\./g, "-")}`;
  const invalid = (props.errors.get(props.name) ?? []).length > 0;
  return (
    <div class="field">
      <label for={id}>{props.label ?? t(`field.${props.name}`)}</label>
      {props.children({ id, describedBy: `${id}-help${invalid ? ` ${id}-error` : ""}`, invalid })}
      <p class="muted help" id={`${id}-help`}>
        {t(`report.help.${props.name}`)}
      </p>
      <Refused name={props.name} id={`${id}-error`} errors={props.errors} />
    </div>
  );
}

/** The field a spec describes, bound to the draft. */
export function DraftField(props: {
  spec: Spec;
  draft: Draft;
  errors: FieldErrors;
  onChange: (key: TextKey, value: string) => void;
}) {
  const { spec } = props;
  const value = props.draft[spec.key];
  const change = (e: Event) =>
    props.onChange(spec.key, (e.target as HTMLInputElement | HTMLSelectElement).value);
  return (
    <Field name={spec.name} errors={props.errors}>
      {({ id, describedBy, invalid }) => {
        const common = {
          id,
          name: spec.name,
          value,
          required: spec.required,
          "aria-describedby": describedBy,
          "aria-invalid": invalid,
        };
        if (spec.kind === "choice") {
          return (
            <select {...common} onChange={change}>
              {spec.required && <option value="">{t("report.choose")}</option>}
              {spec.options.map((o) => (
                <option key={o} value={o}>
                  {spec.words ? word(spec.words, o) : o}
                </option>
              ))}
            </select>
          );
        }
        if (spec.kind === "long") {
          return <textarea {...common} rows={spec.rows} maxLength={spec.max} onInput={change} />;
        }
        return (
          <input
            {...common}
            maxLength={spec.max}
            class={spec.short ? "short" : undefined}
            spellcheck={spec.code ? false : undefined}
            autocapitalize={spec.short ? "characters" : undefined}
            onInput={change}
          />
        );
      }}
    </Field>
  );
}

/** The charges: rows of {state, code, article}, added and removed one at a time. */
export function Charges(props: {
  rows: ChargeRow[];
  errors: FieldErrors;
  onChange: (rows: ChargeRow[]) => void;
}) {
  const { rows } = props;
  const edit = (i: number, key: keyof ChargeRow) => (e: Event) =>
    props.onChange(
      rows.map((c, j) => (j === i ? { ...c, [key]: (e.target as HTMLInputElement).value } : c)),
    );
  const part = (i: number, key: keyof ChargeRow, max: number, short: boolean) => (
    <label>
      {t(`report.charge_${key}`)}
      <input
        name={`charges.${i}.${key}`}
        value={rows[i][key]}
        maxLength={max}
        class={short ? "short" : undefined}
        onInput={edit(i, key)}
      />
    </label>
  );
  return (
    <div class="field">
      <p id="charges-label" class="label">
        {t("field.charges")}
      </p>
      <p class="muted help" id="f-charges-help">
        {t("report.help.charges")}
      </p>
      {rows.map((_, i) => (
        <div class="charge" key={i} role="group" aria-labelledby="charges-label">
          {part(i, "state", 2, true)}
          {part(i, "code", 8, true)}
          {part(i, "article", 12, false)}
          <button type="button" onClick={() => props.onChange(rows.filter((_, j) => j !== i))}>
            {t("report.charge_remove", { n: String(i + 1) })}
          </button>
        </div>
      ))}
      <Refused name="charges" errors={props.errors} />
      {rows.length < 20 && (
        <button
          type="button"
          onClick={() => props.onChange([...rows, { state: "RU", code: "CC", article: "" }])}
        >
          {t("report.charge_add")}
        </button>
      )}
    </div>
  );
}
