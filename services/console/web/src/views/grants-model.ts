/** Per-report grants and release requests: what the console sends and how it reads them
(`services/sharing/vault/schemas.py` `GrantIn`/`GrantOut`, `vault/releases/schemas.py`). */

import { REPORT_FIELDS } from "../fields.ts";

export interface Grant {
  id: string;
  report_id: string;
  partner_id: string;
  role: string | null;
  fields: string[];
  created_at: string;
  created_by: string;
}

export interface ReleaseRequest {
  id: string;
  report_id: string;
  partner_id: string; // the organisation whose lawyer asked
  asked_by: string; // the lawyer's client id
  alert_id: string;
  fields: string[];
  released: string[];
  status: string; // pending | released | approved | denied | withdrawn
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

/** Fields a grant may name: the catalogue's grantable ones (the submitter's own reference is
not a field anyone else reads). */
export const GRANTABLE_FIELDS: readonly string[] = REPORT_FIELDS.filter(
  (f) => f !== "client_report_id",
);

/** Whom a grant may name inside the partner (`READING_ROLES`); "" is every client of it. */
export const GRANT_ROLES = ["", "reader", "lawyer", "partner_admin"] as const;

// Sharing makes partner ids as `ptn_` and hex; the API's own pattern is wider, so anything
// this accepts, sharing parses too.
const PARTNER_ID = /^ptn_[A-Za-z0-9]{1,60}$/;

/** The partner id in what was typed or pasted (spaces, quotes or a trailing dot around it are
dropped), or null when it is not one. */
export function partnerIdFrom(text: string): string | null {
  const trimmed = text.trim().replace(/^["'«“‘(<[]+|["'»”’)>\].,;]+$/g, "");
  return PARTNER_ID.test(trimmed) ? trimmed : null;
}

/** The chosen fields in the catalogue's order, unknown names dropped. */
export function orderedFields(chosen: Iterable<string>): string[] {
  const set = new Set(chosen);
  return GRANTABLE_FIELDS.filter((f) => set.has(f));
}

/** The body of `POST /v1/reports/{id}/grants`. */
export function grantBody(
  partner: string,
  fields: Iterable<string>,
  role: string,
): { partner_id: string; fields: string[]; role: string | null } {
  return { partner_id: partner, fields: orderedFields(fields), role: role === "" ? null : role };
}

/** Release requests to decide first (pending, oldest first), then the decided ones, newest
first. */
export function sortRequests(requests: ReleaseRequest[]): ReleaseRequest[] {
  const pending = requests.filter((r) => r.status === "pending");
  const decided = requests.filter((r) => r.status !== "pending");
  pending.sort((a, b) => a.requested_at.localeCompare(b.requested_at));
  decided.sort((a, b) => b.requested_at.localeCompare(a.requested_at));
  return [...pending, ...decided];
}

/** What a pending request still waits for: asked for and not released yet. */
export function stillWithheld(request: ReleaseRequest): string[] {
  const released = new Set(request.released);
  return request.fields.filter((f) => !released.has(f));
}

/** Items as a sentence's list in the language ("A, B and C"). */
export function listText(items: string[], language: string): string {
  return new Intl.ListFormat(language, { style: "long", type: "conjunction" }).format(items);
}
