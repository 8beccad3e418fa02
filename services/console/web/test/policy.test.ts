// What a policy change does, as the preview shows it, and how the audit log is asked for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { auditQuery, checkpointFileName, NO_FILTER } from "../src/views/admin/audit-model.ts";
import {
  diffPolicies,
  effects,
  emptyPolicy,
  type Grant,
  type PolicyDocument,
} from "../src/views/admin/policy-model.ts";

const grant = (over: Partial<Grant> = {}): Grant => ({
  id: "detentions",
  from: ["*"],
  fields: ["incident_type", "place.country"],
  incident_types: ["detention"],
  countries: ["KG", "KZ"],
  legal_bases: ["*"],
  max_tlp: "AMBER",
  ...over,
});
const policy = (...grants: Grant[]): PolicyDocument => ({ partner: "ptn_b", role: "lawyer", grants });

test("an empty policy is default deny; `*` is the partner-wide role", () => {
  assert.deepEqual(emptyPolicy("ptn_b", "*"), { partner: "ptn_b", role: null, grants: [] });
  assert.deepEqual(emptyPolicy("ptn_b", "lawyer").role, "lawyer");
});

test("an added field is one change, and its readers gain exactly that field", () => {
  const before = policy(grant());
  const after = policy(grant({ fields: ["incident_type", "place.country", "narrative"] }));
  assert.deepEqual(diffPolicies(before, after), [
    { kind: "values", grant: "detentions", what: "fields", added: ["narrative"], removed: [] },
  ]);
  const [effect, ...rest] = effects(before, after);
  assert.deepEqual(rest, []);
  assert.equal(effect.gains, true);
  assert.deepEqual(effect.fields, ["narrative"]);
});

test("a wider condition or a higher TLP makes every field of the grant newly readable", () => {
  const before = policy(grant());
  const wider = policy(grant({ countries: ["KG", "KZ", "UZ"], max_tlp: "AMBER+STRICT" }));
  assert.deepEqual(diffPolicies(before, wider), [
    { kind: "values", grant: "detentions", what: "countries", added: ["UZ"], removed: [] },
    { kind: "tlp", grant: "detentions", before: "AMBER", after: "AMBER+STRICT", raised: true },
  ]);
  assert.deepEqual(effects(before, wider)[0].fields, ["incident_type", "place.country"]);
  const any = policy(grant({ countries: ["*"] }));
  assert.equal(diffPolicies(before, any)[0].kind, "widened");
  // Narrowing reaches fewer reports: nothing is gained, nothing listed as lost either.
  assert.deepEqual(effects(before, policy(grant({ countries: ["KG"] }))), []);
});

test("added and removed grants; no change is no change", () => {
  const a = grant();
  const b = grant({ id: "all-releases", incident_types: ["release"], fields: ["status"] });
  assert.deepEqual(diffPolicies(policy(a), policy(a)), []);
  assert.deepEqual(effects(policy(a), policy(a)), []);
  const changes = diffPolicies(policy(a), policy(b));
  assert.deepEqual(changes.map((c) => c.kind), ["grant_added", "grant_removed"]);
  const found = effects(policy(a), policy(b));
  assert.deepEqual(found.map((e) => [e.gains, e.fields]), [[true, ["status"]], [false, a.fields]]);
});

test("an audit page is asked for newest first, filtered on the server, times in UTC", () => {
  assert.equal(auditQuery(NO_FILTER, null, 50), "order=desc&limit=50");
  const query = new URLSearchParams(
    auditQuery({ ...NO_FILTER, action: " policy. ", target: "ptn_b/lawyer", from: "2026-12-03T10:00" }, "WzEsImF1ZGl0IixbNzBdXQ", 50),
  );
  assert.equal(query.get("cursor"), "WzEsImF1ZGl0IixbNzBdXQ");
  assert.equal(query.get("before"), null);
  assert.equal(query.get("action"), "policy.");
  assert.equal(query.get("target"), "ptn_b/lawyer");
  assert.equal(query.get("actor"), null);
  assert.equal(query.get("since"), new Date("2026-12-03T10:00").toISOString());
  const until = new URLSearchParams(auditQuery({ ...NO_FILTER, to: "2026-12-03T10:00" }, null, 50));
  assert.equal(until.get("until"), new Date(new Date("2026-12-03T10:00").getTime() + 59_999).toISOString());
});

test("a downloaded checkpoint is named by its log, size and time", () => {
  const cp = {
    checkpoint: { origin: "https://sharing.example:8443", size: 42, root_hash: "ab", time: "2026-12-03T10:00:00+00:00" },
    signature: "s", key: { kid: "k", public_key: "p", fingerprint: "f" },
  };
  assert.equal(checkpointFileName(cp), "audit-checkpoint-sharing.example-8443-42-20261203T100000.json");
});
