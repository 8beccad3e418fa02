/** The audit log in the browser: which slice of the log a page is (the API pages oldest first
by `after`; the signed checkpoint's size is the newest seq) and what a filter keeps. Pure. */

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

/** The `after`/`limit` of the `page`-th page counted from the newest (0 = newest), in a log
of `size` entries numbered 1…size; null past the oldest. */
export function pageWindow(
  size: number,
  page: number,
  perPage: number,
): { after: number; limit: number } | null {
  const last = size - page * perPage; // the newest seq on this page
  if (last < 1) return null;
  const after = Math.max(0, last - perPage);
  return { after, limit: last - after };
}

export interface AuditFilter {
  action: string;
  actor: string;
  from: string; // datetime-local value, or ""
  to: string;
}

export const NO_FILTER: AuditFilter = { action: "", actor: "", from: "", to: "" };

/** Whether an entry passes the filter: the action by prefix (`policy.` or `policy.set`), the
actor or target by substring, the time within [from, to] (local times, as typed). */
export function keeps(entry: AuditEntry, filter: AuditFilter): boolean {
  const action = filter.action.trim();
  const actor = filter.actor.trim();
  if (action && !entry.action.startsWith(action)) return false;
  if (actor && !entry.actor.includes(actor) && !entry.target.includes(actor)) return false;
  const at = Date.parse(entry.at);
  if (filter.from && at < new Date(filter.from).getTime()) return false;
  if (filter.to && at > new Date(filter.to).getTime() + 59_999) return false;
  return true;
}

/** The file name a checkpoint is saved under: the log's origin host, size and time. */
export function checkpointFileName(cp: SignedCheckpoint): string {
  const host = cp.checkpoint.origin.replace(/^https?:\/\//, "").replace(/[^A-Za-z0-9.-]+/g, "-");
  const time = cp.checkpoint.time.slice(0, 19).replace(/[^0-9T]/g, "");
  return `audit-checkpoint-${host}-${cp.checkpoint.size}-${time}.json`;
}
