/** What the console reads from sharing's admin API, the roles a client may have, and who may
administer: the subset of `services/sharing/access/schemas.py` the administration views use. */

export interface Partner {
  id: string;
  name: string;
  status: string;
  is_operator: boolean;
  created_at: string;
  disabled_at: string | null;
  lawyer_contact: string | null;
}

export interface Client {
  id: string;
  partner_id: string;
  name: string;
  role: string;
  scopes: string[];
  status: string;
  created_at: string;
  revoked_at: string | null;
}

export interface Key {
  kid: string;
  client_id: string;
  fingerprint: string;
  status: string; // pending | active | revoked
  usable: boolean;
  device_name: string | null;
  not_before: string;
  not_after: string;
  created_at: string;
  revoked_at: string | null;
}

export interface Enrolment {
  id: string;
  client_id: string;
  status: string; // open | used | cancelled | expired
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  kid: string | null;
}

export interface Issued {
  id: string;
  client_id: string;
  code: string;
  expires_at: string;
  link: string;
}

/** A gated action (two-person approval) answers with the approval it waits for. */
export interface Pending {
  approval: { id: string; status: string };
}

/** The scopes each role may hold (`libs/common/auth/roles.py`, checked by a unit test). */
export const ROLE_SCOPES: Record<string, string[]> = {
  submitter: ["reports:submit"],
  reader: ["reports:read", "reports:manage", "reports:submit"],
  lawyer: ["reports:read", "watchlist:manage", "alerts:read", "alerts:ack", "reports:submit"],
  partner_admin: ["clients:manage", "reports:read", "reports:manage", "escalation:manage"],
  operator: ["admin"],
};
export const ROLES = Object.keys(ROLE_SCOPES);
/** What a new client of a role is given unless the administrator unticks it. */
export const DEFAULT_SCOPES: Record<string, string[]> = {
  submitter: ["reports:submit"],
  reader: ["reports:read"],
  lawyer: ["reports:read", "watchlist:manage", "alerts:read", "alerts:ack"],
  partner_admin: ["clients:manage", "reports:read"],
  operator: ["admin"],
};

/** The roles a caller may give a client of this partner: only the operator's own organisation
has operators, and only an operator makes one. */
export function rolesFor(partnerIsOperator: boolean, callerIsOperator: boolean): string[] {
  return ROLES.filter((r) => r !== "operator" || (partnerIsOperator && callerIsOperator));
}

/** Whether these scopes may administer (the server still decides every call). */
export function administers(scopes: Set<string>): boolean {
  return scopes.has("admin") || scopes.has("clients:manage");
}

/** Whether these scopes are a lawyer's (the alerts inbox is theirs). */
export function readsAlerts(scopes: Set<string>): boolean {
  return scopes.has("alerts:read");
}

/** Whether a typed fingerprint is this one: spaces and case do not matter (nor to sharing). */
export function sameFingerprint(typed: string, fingerprint: string): boolean {
  const plain = (text: string) => text.replace(/\s+/g, "").toLowerCase();
  return plain(typed) !== "" && plain(typed) === plain(fingerprint);
}

/** Path segments for an API call, each encoded. */
export function path(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p)).join("/");
}
