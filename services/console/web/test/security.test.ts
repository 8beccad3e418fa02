// The security section's rules: the typed confirmation, the approvals queue, readable requests.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Approval,
  confirmed,
  queueOrder,
  requestRows,
  rewrapDone,
  suiteOf,
  takenRows,
  targetHref,
  toRewrap,
} from "../src/views/admin/security-model.ts";

const approval = (over: Partial<Approval>): Approval => ({
  id: "apr_0000000000000000",
  action: "seizure_lift",
  target: "szr_0000000000000000",
  status: "pending",
  request: {},
  requested_by: "cli_a",
  requested_org: "ptn_op",
  requested_at: "2026-12-04T10:00:00Z",
  expires_at: "2026-12-05T10:00:00Z",
  decided_by: null,
  decided_at: null,
  outcome: null,
  ...over,
});

test("a seizure is confirmed only by the exact name or id; near misses are not", () => {
  const target = { id: "cli_0123", name: "Nino Beridze" };
  assert.equal(confirmed("Nino Beridze", target), true);
  assert.equal(confirmed("  cli_0123 ", target), true);
  assert.equal(confirmed("nino beridze", target), false);
  assert.equal(confirmed("Nino Berid", target), false);
  assert.equal(confirmed("cli_012", target), false);
  assert.equal(confirmed("", target), false);
  assert.equal(confirmed("   ", { id: "cli_0123", name: "   " }), false);
  assert.equal(confirmed("cli_0123", { id: "cli_0123", name: null }), true);
});

test("the queue lists pending requests first (oldest first), then the history newest first", () => {
  const rows = [
    approval({ id: "done-old", status: "done", requested_at: "2026-12-01T00:00:00Z" }),
    approval({ id: "pending-new", requested_at: "2026-12-04T12:00:00Z" }),
    approval({ id: "denied-new", status: "denied", requested_at: "2026-12-03T00:00:00Z" }),
    approval({ id: "pending-old", requested_at: "2026-12-04T09:00:00Z" }),
  ];
  assert.deepEqual(
    queueOrder(rows).map((a) => a.id),
    ["pending-old", "pending-new", "denied-new", "done-old"],
  );
  assert.deepEqual(queueOrder([]), []);
});

test("a request reads as rows: scalars as text, structures as indented JSON, nulls left out", () => {
  const rows = requestRows({
    seizure_id: "szr_1",
    valid_days: 30,
    within: null,
    document: { partner: "ptn_1", grants: [] },
  });
  assert.deepEqual(
    rows.map((r) => r.key),
    ["document", "seizure_id", "valid_days"],
  );
  assert.equal(rows[0].text, '{\n  "partner": "ptn_1",\n  "grants": []\n}');
  assert.equal(rows[2].text, "30");
});

test("what a seizure took is listed in a fixed order, zeros included, unknown kinds last", () => {
  assert.deepEqual(takenRows({ client_keys: 2, clients: 1, extra: 4 }), [
    ["clients", 1],
    ["client_keys", 2],
    ["delivery_keys", 0],
    ["report_grants", 0],
    ["approvals", 0],
    ["enrolments", 0],
    ["extra", 4],
  ]);
});

test("an approval's target links to its page where the console has one", () => {
  assert.equal(targetHref(approval({})), "/admin/seizures/szr_0000000000000000");
  assert.equal(
    targetHref(approval({ action: "policy_change", target: "ptn_1" })),
    "/admin/policies/ptn_1",
  );
  assert.equal(
    targetHref(approval({ action: "key_registration", target: "cli/../x" })),
    "/admin/clients/cli%2F..%2Fx",
  );
  assert.equal(targetHref(approval({ action: "erasure", target: "rpt_1" })), null);
});

test("a sealing key's suite is read from its public text form", () => {
  assert.equal(suiteOf("hpke-v1:pub:mlkem768x25519:AAAA"), "mlkem768x25519");
  assert.equal(suiteOf("hpke-v1:pub:x25519:AAAA"), "x25519");
  assert.equal(suiteOf("garbage"), "");
  assert.equal(suiteOf("hpke-v1:priv:x25519:AAAA"), "");
});

test("the rewrap job is called again until nothing is left, something failed, or it is stuck", () => {
  const step = (remaining: number, failed = 0) => ({ primary: 2, rewrapped: 0, failed, remaining });
  assert.equal(rewrapDone(step(0), 0), true);
  assert.equal(rewrapDone(step(5), 0), false);
  assert.equal(rewrapDone(step(5), 2), false);
  assert.equal(rewrapDone(step(5), 3), true);
  assert.equal(rewrapDone(step(5, 1), 0), true);
});

test("what a rewrap would move: data keys under any version but the primary", () => {
  const kek = (version: number, primary: boolean, data_keys: number) => ({
    version,
    state: "active",
    primary,
    created_at: "2026-12-04T10:00:00Z",
    data_keys,
  });
  assert.equal(toRewrap([kek(1, false, 3), kek(2, true, 7), kek(3, false, 1)]), 4);
  assert.equal(toRewrap([kek(1, true, 9)]), 0);
  assert.equal(toRewrap([]), 0);
});
