/** The audit log in the browser: the query of a page (newest first, filtered by sharing) and
the name a downloaded checkpoint is kept under. Pure. */

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: unknown;
  prev_hash: string;
  hash: string;
}

export interface SignedCheckpoint {
  checkpoint: { origin: string; size: number; root_hash: string; time: string };
  signature: string;
  key: { kid: string; public_key: string; fingerprint: string };
}

export interface AuditFilter {
  action: string; // by its beginning: `policy.` or `policy.set`
  actor: string; // a client id, exactly
  target: string; // by its beginning: a partner id, `ptn_…/lawyer`
  from: string; // datetime-local values (the operator's local time), or ""
  to: string;
}

export const NO_FILTER: AuditFilter = { action: "", actor: "", target: "", from: "", to: "" };

/** The query of one page of `GET /v1/admin/audit`: newest first, from `cursor` (the last
page's `next_cursor`), filtered on the server; local times are sent as UTC. */
export function auditQuery(filter: AuditFilter, cursor: string | null, limit: number): string {
  const query = new URLSearchParams({ order: "desc", limit: String(limit) });
  if (cursor !== null) query.set("cursor", cursor);
  for (const key of ["action", "actor", "target"] as const) {
    const value = filter[key].trim();
    if (value) query.set(key, value);
  }
  if (filter.from) query.set("since", new Date(filter.from).toISOString());
  // A minute typed as the end includes that whole minute.
  if (filter.to) query.set("until", new Date(new Date(filter.to).getTime() + 59_999).toISOString());
  return query.toString();
}

/** The file name a checkpoint is saved under: the log's origin host, size and time. */
export function checkpointFileName(cp: SignedCheckpoint): string {
  const host = cp.checkpoint.origin.replace(/^https?:\/\//, "").replace(/[^A-Za-z0-9.-]+/g, "-");
  const time = cp.checkpoint.time.slice(0, 19).replace(/[^0-9T]/g, "");
  return `audit-checkpoint-${host}-${cp.checkpoint.size}-${time}.json`;
}
