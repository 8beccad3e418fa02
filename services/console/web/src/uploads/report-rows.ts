/** Rows of a reports CSV (the columns of `lifeline report template --format csv`) as the form's
drafts, checked by the form's own specs, each with a client report id that makes a retry safe. */

import { type ChargeRow, type Draft, emptyDraft, SEXES } from "../report.ts";
import { checkDraft, type LocalProblem } from "../report-specs.ts";
import type { CsvRow } from "./csv.ts";

/** The CSV columns, in the CLI's order (`libs/sdk/report_files.CSV_COLUMNS`; a test keeps the
two equal). */
export const REPORT_COLUMNS = [
  "client_report_id",
  "follows",
  "incident_type",
  "legal_basis",
  "occurred_at",
  "country",
  "locality",
  "facility_kind",
  "requesting_state",
  "charges",
  "detaining_authority",
  "status",
  "tlp",
  "narrative",
  "contact_instructions",
  "person_name",
  "person_dob",
  "person_sex",
] as const;
export const REPORT_REQUIRED = ["incident_type", "occurred_at", "country", "person_name"];

/** One row, ready to be tokenised and sent, or with what is wrong with it. */
export interface ReportRow {
  line: number;
  draft: Draft;
  person: [name: string, dob: string | null] | null; // null: a follow-up naming no one
  problems: LocalProblem[];
}

/** `RU:CC:207.3;RU:280.3` as the catalogue reads it (`fields._charges`; the code defaults to
CC). */
export function chargesFrom(cell: string): ChargeRow[] {
  return cell
    .split(";")
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const parts = item.split(":").map((p) => p.trim());
      if (parts.length === 3) return { state: parts[0], code: parts[1], article: parts[2] };
      if (parts.length === 2) return { state: parts[0], code: "CC", article: parts[1] };
      return { state: "", code: "", article: item };
    });
}

/** `20.11.2026`, as a Russian spreadsheet writes a date, as `2026-11-20`; anything else as
it is (`fields._occurred`). */
export function occurredFrom(cell: string): string {
  const m = /^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$/.exec(cell.trim());
  return m ? `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}` : cell;
}

/** A short hex digest of a file: the same file gives the same client report ids. */
export async function fileDigest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The row's own client report id, or one derived from the file and the row: submitting the
same file again (after a lost answer) is then a retry intake recognises, never a new report. */
export function clientReportId(cell: string, digest: string, line: number): string {
  return cell || `upload-${digest}-${line}`;
}

/** A CSV row as the form's draft; problems by the form's specs and the person's columns. */
export function reportRow(row: CsvRow, digest: string, unknown: string[]): ReportRow {
  const c = row.cells;
  const base = emptyDraft();
  const draft: Draft = {
    client_report_id: clientReportId(c.client_report_id ?? "", digest, row.line),
    follows: (c.follows ?? "").trim(),
    incident_type: c.incident_type ?? "",
    legal_basis: c.legal_basis || base.legal_basis,
    occurred_at: occurredFrom(c.occurred_at ?? ""),
    country: c.country ?? "",
    locality: c.locality ?? "",
    facility_kind: c.facility_kind || base.facility_kind,
    requesting_state: c.requesting_state ?? "",
    charges: chargesFrom(c.charges ?? ""),
    detaining_authority: c.detaining_authority ?? "",
    status: c.status || base.status,
    tlp: c.tlp || base.tlp,
    narrative: c.narrative ?? "",
    contact_instructions: c.contact_instructions ?? "",
    sex: c.person_sex || "unknown",
  };
  const problems = checkDraft(draft);
  // Like the CLI: a follow-up row is about the person of the report it follows, so it may name none.
  const named = Boolean((c.person_name ?? "").trim());
  if (!named && !draft.follows) problems.push({ path: "subject", reason: "required" });
  if (!(SEXES as readonly string[]).includes(draft.sex)) {
    problems.push({ path: "subject", reason: "choice" });
  }
  // Like the CLI: a column it does not know refuses the row rather than dropping a value.
  if (unknown.length) problems.push({ path: "report", reason: "unknown_column" });
  const person: [string, string | null] | null = named
    ? [c.person_name ?? "", c.person_dob || null]
    : null;
  return { line: row.line, draft, person, problems };
}
