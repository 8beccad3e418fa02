/** The report form's fields as specs (one per catalogue field) and the checks a browser can
make with them before anything is sent: the form draws them, an uploaded file is checked by them. */

import { canonicalArticle } from "./charges.ts";
import {
  type Draft,
  FACILITY_KINDS,
  INCIDENT_TYPES,
  LEGAL_BASES,
  STATUSES,
  TLPS,
} from "./report.ts";

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

const CODE = /^[A-Za-z]{2}$/;
const CLIENT_REPORT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A problem found in the browser: the catalogue field and why (an i18n key's last part). */
export interface LocalProblem {
  path: string;
  reason:
    | "required"
    | "choice"
    | "too_long"
    | "code"
    | "client_report_id"
    | "charge"
    | "unknown_column";
}

/** What the specs say of a draft; intake still decides (a country code it does not know). */
export function checkDraft(draft: Draft): LocalProblem[] {
  const out: LocalProblem[] = [];
  for (const spec of [...INCIDENT, ...REQUEST, ...SHARING]) {
    const value = draft[spec.key].trim();
    if (!value) {
      if (spec.required) out.push({ path: spec.name, reason: "required" });
      continue;
    }
    if (spec.kind === "choice" && !spec.options.includes(value)) {
      out.push({ path: spec.name, reason: "choice" });
    } else if (spec.kind !== "choice" && spec.max && value.length > spec.max) {
      out.push({ path: spec.name, reason: "too_long" });
    } else if (spec.kind === "text" && spec.short && !CODE.test(value)) {
      out.push({ path: spec.name, reason: "code" });
    }
  }
  if (!CLIENT_REPORT_ID.test(draft.client_report_id.trim())) {
    out.push({ path: "client_report_id", reason: "client_report_id" });
  }
  if (draft.charges.length > 20 || draft.charges.some((c) => !CODE.test(c.state.trim()) ||
      canonicalArticle(c.article) === null)) {
    out.push({ path: "charges", reason: "charge" });
  }
  return out;
}
