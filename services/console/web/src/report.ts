/** The report form's model: the body intake expects (`libs/common/reports/model.py`), built as
the SDK builds it (`libs/sdk/report_files.py`), and which field an intake error names. */

import { canonicalArticle } from "./charges.ts";
import { REPORT_FIELDS } from "./fields.ts";
import type { IdentityToken } from "./identity/tokens.ts";

/** The vocabularies of `libs/common/reports/vocabulary.py` (a test keeps them equal). */
export const INCIDENT_TYPES = [
  "detention",
  "extradition_request",
  "extradition_decision",
  "deportation",
  "entry_refusal",
  "residence_revoked",
  "travel_ban",
  "abduction",
  "interrogation",
  "threat_or_attack",
  "release",
  "other",
] as const;
export const LEGAL_BASES = [
  "cis_interstate_search",
  "interpol_red_notice",
  "interpol_diffusion",
  "bilateral_request",
  "national_security",
  "administrative",
  "no_legal_basis",
  "unknown",
] as const;
export const FACILITY_KINDS = [
  "airport",
  "border_crossing",
  "police_station",
  "detention_centre",
  "court",
  "consulate",
  "street",
  "unknown",
] as const;
export const STATUSES = [
  "ongoing",
  "released",
  "transferred",
  "extradition_decided",
  "extradited",
  "deported",
  "unknown",
] as const;
export const TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"] as const;
export const SEXES = ["unknown", "female", "male"] as const;

export interface ChargeRow {
  state: string;
  code: string;
  article: string;
}

/** What the form holds: every field as typed, plus the person (never sent). */
export interface Draft {
  client_report_id: string;
  follows: string; // a follow-up's earlier report ("" for a new case)
  incident_type: string;
  legal_basis: string;
  occurred_at: string;
  country: string;
  locality: string;
  facility_kind: string;
  requesting_state: string;
  charges: ChargeRow[];
  detaining_authority: string;
  status: string;
  tlp: string;
  narrative: string;
  contact_instructions: string;
  sex: string;
}

/** A fresh id for a report typed in the console; kept while the form is retried. */
export function newClientReportId(random: () => string = () => crypto.randomUUID()): string {
  return `console-${random()}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A local time with its UTC offset, `2026-11-20T06:40:00+06:00`. */
export function localTimeWithOffset(at: Date): string {
  const offset = -at.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:00`;
  return `${day}T${time}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function emptyDraft(now: Date = new Date()): Draft {
  return {
    client_report_id: newClientReportId(),
    follows: "",
    incident_type: "",
    legal_basis: "unknown",
    occurred_at: localTimeWithOffset(now),
    country: "",
    locality: "",
    facility_kind: "unknown",
    requesting_state: "",
    charges: [],
    detaining_authority: "",
    status: "unknown",
    tlp: "AMBER",
    narrative: "",
    contact_instructions: "",
    sex: "unknown",
  };
}

/** The body for `POST /v1/reports`: empty optional fields left out, the subject tokens only
(none for a follow-up, which is about the person of the report it follows). */
export function reportBody(draft: Draft, tokens: IdentityToken[] | null): Record<string, unknown> {
  const text = (v: string) => v.trim();
  const upper = (v: string) => v.trim().toUpperCase();
  const place: Record<string, unknown> = {
    country: upper(draft.country),
    facility_kind: draft.facility_kind,
  };
  if (text(draft.locality)) place.locality = text(draft.locality);
  const body: Record<string, unknown> = {
    client_report_id: text(draft.client_report_id),
    ...(text(draft.follows) ? { follows: text(draft.follows) } : {}),
    incident_type: draft.incident_type,
    legal_basis: draft.legal_basis,
    occurred_at: text(draft.occurred_at),
    place,
  };
  if (text(draft.requesting_state)) body.requesting_state = upper(draft.requesting_state);
  const charges = draft.charges
    .filter((c) => c.state.trim() || c.code.trim() || c.article.trim())
    .map((c) => ({
      state: upper(c.state),
      ...(c.code.trim() ? { code: upper(c.code) } : {}),
      article: canonicalArticle(c.article) ?? text(c.article),
    }));
  if (charges.length) body.charges = charges;
  if (text(draft.detaining_authority)) body.detaining_authority = text(draft.detaining_authority);
  body.status = draft.status;
  body.tlp = draft.tlp;
  if (draft.narrative.trim()) body.narrative = draft.narrative;
  if (draft.contact_instructions.trim()) body.contact_instructions = draft.contact_instructions;
  if (tokens) body.subject = { tokens, sex: draft.sex };
  return body;
}

const REPORT_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The report a form follows up, from the page's `?follows=` (anything else: none). */
export function followsFrom(search: string): string | null {
  const id = new URLSearchParams(search).get("follows");
  return id && REPORT_ID.test(id) ? id : null;
}

/** The catalogue field an error path names (`charges.0.article` → `charges`), else "report". */
export function fieldOf(path: string): string {
  let best = "";
  for (const name of REPORT_FIELDS) {
    if ((path === name || path.startsWith(`${name}.`)) && name.length > best.length) best = name;
  }
  if (!best && path === "place") return "place.country";
  return best || "report";
}

/** Intake's field errors grouped by catalogue field. */
export function errorsByField(
  fields: { path: string; reason: string }[],
): Map<string, { path: string; reason: string }[]> {
  const out = new Map<string, { path: string; reason: string }[]>();
  for (const f of fields) {
    const key = fieldOf(f.path);
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

export interface Receipt {
  report_id: string;
  client_report_id: string;
  status: "received" | "published" | "stored";
  received_at: string;
  published_at: string | null;
  stored_at: string | null;
  follows?: string | null; // a follow-up's earlier report
  erased_at?: string | null; // erased: it cannot be followed up
}

/** One read of a report (sharing's `ReadOut`). */
export interface Read {
  id: number;
  reader_partner: string;
  reader_client: string;
  role: string;
  fields: string[];
  via: string;
  read_at: string;
}
