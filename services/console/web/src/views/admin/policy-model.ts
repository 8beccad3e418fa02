/** Sharing policies in the browser: the document's shape, and what a change does, computed from
the saved and the proposed canonical documents (`docs/policies.md`). Pure: no I/O, no text. */

export interface Grant {
  id: string;
  from: string[];
  fields: string[];
  incident_types: string[];
  countries: string[];
  legal_bases: string[];
  max_tlp: string;
}

export interface PolicyDocument {
  partner: string;
  role: string | null;
  grants: Grant[];
}

export interface StoredPolicy {
  document: PolicyDocument;
  version: number;
  updated_at: string;
  updated_by: string;
}

/** The roles a policy can name (`READING_ROLES`); `*` in the API is the partner-wide one. */
export const POLICY_ROLES = ["*", "reader", "lawyer", "partner_admin"] as const;

/** The wildcard-able conditions of a grant, as the document names them. */
export const CONDITIONS = ["from", "incident_types", "countries", "legal_bases"] as const;
export type Condition = (typeof CONDITIONS)[number];

const TLP_ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"];

/** An empty (default-deny) document for a partner and role (`*` = every role). */
export function emptyPolicy(partner: string, role: string): PolicyDocument {
  return { partner, role: role === "*" ? null : role, grants: [] };
}

export type Change =
  | { kind: "grant_added"; grant: Grant }
  | { kind: "grant_removed"; grant: Grant }
  | { kind: "values"; grant: string; what: "fields" | Condition; added: string[]; removed: string[] }
  | { kind: "widened"; grant: string; what: Condition; before: string[]; after: string[] }
  | { kind: "tlp"; grant: string; before: string; after: string; raised: boolean };

const minus = (a: string[], b: string[]) => a.filter((v) => !b.includes(v));
const any = (values: string[]) => values.length === 1 && values[0] === "*";

/** What replacing `before` with `after` changes, grant by grant (ids sorted). */
export function diffPolicies(before: PolicyDocument, after: PolicyDocument): Change[] {
  const old = new Map(before.grants.map((g) => [g.id, g]));
  const now = new Map(after.grants.map((g) => [g.id, g]));
  const ids = [...new Set([...old.keys(), ...now.keys()])].sort();
  const changes: Change[] = [];
  for (const id of ids) {
    const a = old.get(id);
    const b = now.get(id);
    if (!b && a) changes.push({ kind: "grant_removed", grant: a });
    else if (!a && b) changes.push({ kind: "grant_added", grant: b });
    else if (a && b) changes.push(...grantChanges(a, b));
  }
  return changes;
}

function grantChanges(a: Grant, b: Grant): Change[] {
  const changes: Change[] = [];
  const added = minus(b.fields, a.fields);
  const removed = minus(a.fields, b.fields);
  if (added.length || removed.length) {
    changes.push({ kind: "values", grant: b.id, what: "fields", added, removed });
  }
  for (const what of CONDITIONS) {
    const [x, y] = [a[what], b[what]];
    if (any(x) !== any(y)) {
      changes.push({ kind: "widened", grant: b.id, what, before: x, after: y });
      continue;
    }
    const plus = minus(y, x);
    const less = minus(x, y);
    if (plus.length || less.length) {
      changes.push({ kind: "values", grant: b.id, what, added: plus, removed: less });
    }
  }
  if (a.max_tlp !== b.max_tlp) {
    const raised = TLP_ORDER.indexOf(b.max_tlp) > TLP_ORDER.indexOf(a.max_tlp);
    changes.push({ kind: "tlp", grant: b.id, before: a.max_tlp, after: b.max_tlp, raised });
  }
  return changes;
}

/** One consequence for the policy's readers: these fields of reports matching `grant` become
readable (`gains`) or stop being readable through it (`loses`). */
export interface Effect {
  gains: boolean;
  fields: string[];
  grant: Grant;
}

/** Whether `b` reaches reports `a` did not (a wider condition or a higher TLP). */
function reachesMore(a: Grant, b: Grant): boolean {
  const wider = CONDITIONS.some(
    (c) => (any(b[c]) && !any(a[c])) || (!any(b[c]) && !any(a[c]) && minus(b[c], a[c]).length > 0),
  );
  return wider || TLP_ORDER.indexOf(b.max_tlp) > TLP_ORDER.indexOf(a.max_tlp);
}

/** What the change means for the policy's readers, grant by grant: the fields that become
readable (all of a grant's fields when it reaches new reports) and those no longer granted. */
export function effects(before: PolicyDocument, after: PolicyDocument): Effect[] {
  const old = new Map(before.grants.map((g) => [g.id, g]));
  const now = new Map(after.grants.map((g) => [g.id, g]));
  const out: Effect[] = [];
  for (const b of after.grants) {
    const a = old.get(b.id);
    const gained = !a || reachesMore(a, b) ? b.fields : minus(b.fields, a.fields);
    if (gained.length) out.push({ gains: true, fields: gained, grant: b });
  }
  for (const a of before.grants) {
    const b = now.get(a.id);
    const lost = b ? minus(a.fields, b.fields) : a.fields;
    if (lost.length) out.push({ gains: false, fields: lost, grant: a });
  }
  return out;
}
