/** Report fields in the catalogue's order (`libs/common/reports/fields.py`; a test keeps the
two lists equal) and how a value is shown. */

/** Every field a report can carry, by its dotted name. */
export const REPORT_FIELDS = [
  "client_report_id",
  "follows",
  "incident_type",
  "legal_basis",
  "occurred_at",
  "place.country",
  "place.locality",
  "place.facility_kind",
  "requesting_state",
  "charges",
  "detaining_authority",
  "status",
  "tlp",
  "narrative",
  "contact_instructions",
  "subject",
] as const;

/** Fields the alert view never shows: the submitter's own id, the link of a follow-up (ids
are not content) and the identity tokens. */
export const NOT_SHOWN = new Set(["client_report_id", "follows", "subject"]);

/** Fields whose values are words of the vocabulary, shown through the catalogue. */
export const VOCABULARY = new Set([
  "incident_type",
  "legal_basis",
  "place.facility_kind",
  "status",
]);

/** The value at a dotted path of a report body. */
export function valueAt(report: Record<string, unknown>, path: string): unknown {
  let node: unknown = report;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

interface Charge {
  state?: string;
  code?: string;
  article?: string;
}

/** A charge list as `RU CC 207.3, RU CC 280.3`. */
export function chargesText(value: unknown): string {
  if (!Array.isArray(value)) return "";
  return value
    .map((c: Charge) => [c.state, c.code, c.article].filter(Boolean).join(" "))
    .join(", ");
}
