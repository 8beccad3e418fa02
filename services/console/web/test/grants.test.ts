// Per-report grants and release requests: what the console sends and in which order it shows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { REPORT_FIELDS } from "../src/fields.ts";
import {
  GRANTABLE_FIELDS,
  grantBody,
  listText,
  orderedFields,
  partnerIdFrom,
  type ReleaseRequest,
  sortRequests,
  stillWithheld,
} from "../src/views/grants-model.ts";
import { parseRoute } from "../src/router.ts";

test("a partner id is taken as typed or pasted, and anything else is refused", () => {
  assert.equal(partnerIdFrom("ptn_0a1b2c3d4e5f6a7b"), "ptn_0a1b2c3d4e5f6a7b");
  assert.equal(partnerIdFrom("  ptn_0a1b2c3d4e5f6a7b\n"), "ptn_0a1b2c3d4e5f6a7b");
  assert.equal(partnerIdFrom("«ptn_0a1b2c3d4e5f6a7b»."), "ptn_0a1b2c3d4e5f6a7b");
  assert.equal(partnerIdFrom('"ptn_abc",'), "ptn_abc");
  for (const bad of ["", "ptn_", "0a1b2c3d", "cli_0a1b", "ptn_0a1b 2c3d", "ptn_../x", "PTN_ab",
    "ptn_<script>", `ptn_${"a".repeat(61)}`]) {
    assert.equal(partnerIdFrom(bad), null, bad);
  }
});

test("the fields a grant may name are the catalogue's but the submitter's own reference", () => {
  assert.deepEqual(GRANTABLE_FIELDS, REPORT_FIELDS.filter((f) => f !== "client_report_id"));
});

test("a grant's body lists the chosen fields in the catalogue's order; '' is every role", () => {
  const body = grantBody("ptn_b", new Set(["place.country", "incident_type", "nonsense"]), "");
  assert.deepEqual(body, { partner_id: "ptn_b", fields: ["incident_type", "place.country"], role: null });
  assert.equal(grantBody("ptn_b", ["narrative"], "lawyer").role, "lawyer");
  assert.deepEqual(orderedFields(["client_report_id"]), []);
});

const request = (over: Partial<ReleaseRequest>): ReleaseRequest => ({
  id: "r",
  report_id: "rep",
  partner_id: "ptn_bar",
  asked_by: "cli_law",
  alert_id: "alt",
  fields: ["narrative", "detaining_authority"],
  released: [],
  status: "pending",
  requested_at: "2026-12-01T10:00:00Z",
  decided_at: null,
  decided_by: null,
  ...over,
});

test("pending requests come first, oldest first; then the decided, newest first", () => {
  const sorted = sortRequests([
    request({ id: "d1", status: "denied", requested_at: "2026-12-01T09:00:00Z" }),
    request({ id: "p2", requested_at: "2026-12-02T09:00:00Z" }),
    request({ id: "a3", status: "approved", requested_at: "2026-12-03T09:00:00Z" }),
    request({ id: "p1", requested_at: "2026-12-01T08:00:00Z" }),
  ]);
  assert.deepEqual(sorted.map((r) => r.id), ["p1", "p2", "a3", "d1"]);
});

test("a pending request waits for what is asked and not yet released", () => {
  assert.deepEqual(stillWithheld(request({ released: ["narrative"] })), ["detaining_authority"]);
});

test("lists read as a sentence in either language", () => {
  assert.equal(listText(["Place", "Legal basis"], "en"), "Place and Legal basis");
  assert.equal(listText(["Место", "Основание"], "ru"), "Место и Основание");
});

test("the release requests page has its path", () => {
  assert.deepEqual(parseRoute("/reports/releases"), { page: "releases" });
  assert.deepEqual(parseRoute("/reports/releases/x"), { page: "missing" });
});
