/** The shapes the console reads from the services (the subset it uses). */

export type AlertStatus = "open" | "acknowledged" | "resolved" | "withdrawn";
export const OUTCOMES = [
  "released",
  "held_pending_extradition",
  "extradited",
  "deported",
  "not_my_client",
  "other",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Alert {
  id: string;
  status: AlertStatus;
  priority: string;
  label: string;
  entry_id: string;
  match: { strength: string; reason: string; agreed: string[] };
  incident_type: string | null;
  legal_basis: string | null;
  country: string | null;
  facility_kind: string | null;
  occurred_at: string | null;
  report_id: string;
  report_count: number;
  restricted: boolean;
  release: string | null;
  created_at: string;
  updated_at: string;
  acknowledged: { at: string; by: string; via: string } | null;
  resolution?: { outcome: Outcome; note: string | null; at: string; by: string } | null;
  case_status?: string | null; // the latest follow-up's status, where it may be shown
}

/** A follow-up of the alert's report as it reached the alert. */
export interface AlertUpdate {
  report_id: string;
  status: string | null; // null: the organisation may not read it
  worse: boolean;
  reopened: boolean;
  at: string;
}

export interface Delivery {
  id: string;
  channel: string;
  kind: string;
  step: number;
  status: string;
  attempts: { attempt: number; outcome: string; http_status: number | null; error: string | null }[];
  delivered_at: string | null;
}

export interface AlertDetail extends Alert {
  deliveries: Delivery[];
  updates?: AlertUpdate[];
}

export interface AlertPage {
  alerts: Alert[];
  next_cursor: string | null;
}

export interface ReportView {
  report_id: string;
  partner_id: string;
  received_at: string;
  report: Record<string, unknown>;
  withheld: string[];
  partner_contact?: string | null;
}

export interface Contact {
  id: string;
  role: string;
  channel: string;
  address: string;
  name: string | null;
  encrypted: boolean;
  disabled: boolean;
  disabled_reason: string | null;
  health?: ContactHealth | null;
}

/** How a contact's deliveries fare (alerts' `delivery/health`); `last_failure` is a code. */
export interface ContactHealth {
  state: "ok" | "failing" | "unknown" | "key_expiring" | "key_expired";
  last_success_at: string | null;
  last_failure_at: string | null;
  last_failure: string | null;
  consecutive_failures: number;
  key_expires_at: string | null;
}

export interface Profile {
  client_id: string;
  org_id: string;
  language?: string;
  contacts: Contact[];
  new_secrets: Record<string, string>;
  /** False when the lawyer watches someone and none of their own contacts works. */
  reachable?: boolean;
}

export interface Escalation {
  org_id: string;
  escalate_after_minutes: number;
  duty_after_minutes: number;
  repeat_every_minutes: number;
  max_repeats: number;
  duty_contacts: Contact[];
}

export interface StrengthFigures {
  resolved: number;
  by_outcome: Record<string, number>;
  not_my_client_share: number | null;
}

export interface Feedback {
  org_id: string;
  since: string | null;
  resolved: number;
  by_outcome: Record<string, number>;
  not_my_client_share: number | null;
  by_strength: Record<"strong" | "possible", StrengthFigures>;
  suppressed_matches: number;
}

export interface Entry {
  id: string;
  label: string;
  rule: Record<string, unknown>;
  token_count: number;
  created_at: string;
}

export interface EntryPage {
  entries: Entry[];
  next_cursor: string | null;
}

/** Alerts in `now` that were not in `before` (null before the first load: nothing is new). */
export function newIds(before: Set<string> | null, now: Alert[]): Alert[] {
  return before ? now.filter((a) => !before.has(a.id)) : [];
}
