/** What the security section reads from sharing (seizures, approvals, the vault's key status)
and the pure rules its views use: the typed confirmation, the queue's order, readable requests. */

export interface Seizure {
  id: string;
  target_kind: string; // client | partner
  target_id: string;
  partner_id: string;
  status: string; // active | lifted
  reason: string;
  counts: Record<string, number>;
  created_at: string;
  created_by: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_approval_id: string | null;
}

export interface Approval {
  id: string;
  action: string; // key_registration | policy_change | erasure | seizure_lift
  target: string;
  status: string; // pending | running | done | failed | denied | expired | cancelled
  request: Record<string, unknown>;
  requested_by: string;
  requested_org: string;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  outcome: Record<string, unknown> | null;
}

export interface KekVersion {
  version: number;
  state: string;
  primary: boolean;
  created_at: string;
  data_keys: number;
}

export interface SealingKey {
  kid: string;
  public_key: string;
  fingerprint: string;
  state: string;
  created_at: string;
  last_report_at: string | null;
}

export interface KeyStatus {
  kek: KekVersion[];
  sealing: SealingKey[];
}

/** What a seizure takes, in the order the page lists it (sharing's `Taken`). */
export const TAKEN = [
  "clients",
  "client_keys",
  "delivery_keys",
  "report_grants",
  "approvals",
  "enrolments",
] as const;

/** The counts of a seizure in the page's order, each kind once (zero if sharing left it out). */
export function takenRows(counts: Record<string, number>): [string, number][] {
  const known: [string, number][] = TAKEN.map((k) => [k, counts[k] ?? 0]);
  const other = Object.keys(counts)
    .filter((k) => !(TAKEN as readonly string[]).includes(k))
    .sort()
    .map((k): [string, number] => [k, counts[k]]);
  return [...known, ...other];
}

/** Whether the operator typed the target exactly: its id or its name (outer spaces aside; case
matters, so a near miss never seizes the wrong target). */
export function confirmed(typed: string, target: { id: string; name: string | null }): boolean {
  const text = typed.trim();
  return text !== "" && (text === target.id || text === (target.name ?? "").trim());
}

/** Pending approvals first (oldest first: they expire first), then the history, newest first. */
export function queueOrder(approvals: Approval[]): Approval[] {
  const pending = approvals
    .filter((a) => a.status === "pending")
    .sort((a, b) => a.requested_at.localeCompare(b.requested_at));
  const rest = approvals
    .filter((a) => a.status !== "pending")
    .sort((a, b) => b.requested_at.localeCompare(a.requested_at));
  return [...pending, ...rest];
}

/** The request of an approval as rows a person reads: scalars as text, structures as indented
JSON (a policy document, its changes), keys in a stable order. */
export function requestRows(request: Record<string, unknown>): { key: string; text: string }[] {
  return Object.keys(request)
    .sort()
    .filter((key) => request[key] !== null && request[key] !== undefined)
    .map((key) => {
      const value = request[key];
      const text = typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
      return { key, text };
    });
}

/** Where an approval's target is shown in the console, if it has a page there. */
export function targetHref(approval: Pick<Approval, "action" | "target">): string | null {
  const id = encodeURIComponent(approval.target);
  if (approval.action === "seizure_lift") return `/admin/seizures/${id}`;
  if (approval.action === "policy_change") return `/admin/policies/${id}`;
  if (approval.action === "key_registration") return `/admin/clients/${id}`;
  return null;
}

/** A sealing key's suite, from its public text form (`hpke-v1:pub:<suite>:<key>`). */
export function suiteOf(publicKey: string): string {
  const parts = publicKey.split(":");
  return parts.length === 4 && parts[1] === "pub" ? parts[2] : "";
}

/** One step of the rewrap job, as sharing answers it. */
export interface RewrapStep {
  primary: number;
  rewrapped: number;
  failed: number;
  remaining: number;
}

/** Whether to stop calling the rewrap job (as `lifeline admin keys rewrap` does): nothing left,
something failed, or three calls in a row moved nothing (rows another replica holds, or ones
that cannot move). `idle` counts the calls in a row that rewrapped nothing, this one included. */
export function rewrapDone(step: RewrapStep, idle: number): boolean {
  return step.remaining === 0 || step.failed > 0 || idle >= 3;
}

/** Data keys still wrapped under a version other than the primary: what a rewrap would move. */
export function toRewrap(kek: KekVersion[]): number {
  return kek.filter((v) => !v.primary).reduce((sum, v) => sum + v.data_keys, 0);
}
