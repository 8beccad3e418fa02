/** The report form's fields: one spec per catalogue field, rendered with its label, help and
the reasons intake refused it. Adding a field to the form is one spec. */

import type { ComponentChildren } from "preact";
import { t } from "../i18n/index.ts";
import type { ChargeRow, Draft } from "../report.ts";
import type { Spec } from "../report-specs.ts";
import { Text, word } from "./common.tsx";

export type FieldErrors = Map<string, { path: string; reason: string }[]>;
export { INCIDENT, REQUEST, SHARING, type Spec } from "../report-specs.ts";
type TextKey = Exclude<keyof Draft, "charges">;

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
