// Paths, enrolment codes, report fields and the inbox's notion of "new".
import assert from "node:assert/strict";
import { test } from "node:test";
import { chargesText, valueAt } from "../src/fields.ts";
import { emptyDraft, fieldOf, localTimeWithOffset, reportBody } from "../src/report.ts";
import { codeFrom, parseRoute } from "../src/router.ts";
import { sameFingerprint } from "../src/views/admin/model.ts";
import { type Alert, newIds } from "../src/types.ts";

const CODE = "A".repeat(43);

test("paths map to pages; an alert id is checked; anything else is missing", () => {
  assert.deepEqual(parseRoute("/"), { page: "inbox" });
  assert.deepEqual(parseRoute("/alerts/"), { page: "inbox" });
  assert.deepEqual(parseRoute("/alerts/alt_123"), { page: "alert", id: "alt_123" });
  assert.deepEqual(parseRoute("/settings"), { page: "settings" });
  assert.deepEqual(parseRoute("/alerts/<script>"), { page: "missing" });
  assert.deepEqual(parseRoute("/api/alerts/v1/alerts"), { page: "missing" });
});

test("administration paths carry the partner's or the client's id; bad ids are missing", () => {
  assert.deepEqual(parseRoute("/admin"), { page: "admin" });
  assert.deepEqual(parseRoute("/admin/partners/"), { page: "partners" });
  assert.deepEqual(parseRoute("/admin/partners/ptn_a1"), { page: "partner", id: "ptn_a1" });
  assert.deepEqual(parseRoute("/admin/clients/cli_b2"), { page: "client", id: "cli_b2" });
  assert.deepEqual(parseRoute("/admin/clients"), { page: "missing" });
  assert.deepEqual(parseRoute("/admin/clients/cli%2F..%2F"), { page: "missing" });
  assert.deepEqual(parseRoute("/admin/partners/a/b"), { page: "missing" });
});

test("the security section's paths: seizures, approvals (their ids checked) and the vault", () => {
  const szr = "szr_0123456789abcdef";
  const apr = "apr_0123456789abcdef";
  assert.deepEqual(parseRoute("/admin/seizures"), { page: "seizures" });
  assert.deepEqual(parseRoute(`/admin/seizures/${szr}`), { page: "seizure", id: szr });
  assert.deepEqual(parseRoute("/admin/approvals/"), { page: "approvals" });
  assert.deepEqual(parseRoute(`/admin/approvals/${apr}`), { page: "approval", id: apr });
  assert.deepEqual(parseRoute("/admin/vault"), { page: "vault" });
  assert.deepEqual(parseRoute("/admin/seizures/szr_XYZ"), { page: "missing" });
  assert.deepEqual(parseRoute(`/admin/approvals/${szr}`), { page: "missing" });
});

test("policies are reached with or without a partner; the audit log has one page", () => {
  assert.deepEqual(parseRoute("/admin/policies"), { page: "policies", partner: null });
  assert.deepEqual(parseRoute("/admin/policies/"), { page: "policies", partner: null });
  assert.deepEqual(parseRoute("/admin/policies/ptn_a1"), { page: "policies", partner: "ptn_a1" });
  assert.deepEqual(parseRoute("/admin/policies/ptn_a1/lawyer"), { page: "missing" });
  assert.deepEqual(parseRoute("/admin/policies/%3Cscript%3E"), { page: "missing" });
  assert.deepEqual(parseRoute("/admin/audit"), { page: "audit" });
  assert.deepEqual(parseRoute("/admin/audit/1"), { page: "missing" });
});

test("the enrolment code comes from the fragment, a pasted link or the bare code", () => {
  assert.deepEqual(parseRoute("/enrol", `#code=${CODE}`), { page: "enrol", code: CODE });
  assert.deepEqual(parseRoute("/enrol", "#code=short"), { page: "enrol", code: null });
  assert.equal(codeFrom(`https://console.example/enrol#code=${CODE}`), CODE);
  assert.equal(codeFrom(`  ${CODE}\n`), CODE);
  assert.equal(codeFrom("javascript:alert(1)"), null);
});

test("values are read by dotted path; charges read as articles", () => {
  const report = { place: { country: "KG", locality: null }, charges: [{ state: "RU", code: "CC", article: "207.3" }] };
  assert.equal(valueAt(report, "place.country"), "KG");
  assert.equal(valueAt(report, "place.locality"), null);
  assert.equal(valueAt(report, "narrative"), undefined);
  assert.equal(chargesText(report.charges), "RU CC 207.3");
  assert.equal(chargesText("not a list"), "");
});

test("an alert is new only after the first load and only once", () => {
  const a = { id: "a" } as Alert;
  const b = { id: "b" } as Alert;
  assert.deepEqual(newIds(null, [a]), []);
  assert.deepEqual(newIds(new Set(["a"]), [b, a]), [b]);
  assert.deepEqual(newIds(new Set(["a", "b"]), [b, a]), []);
});

test("a typed fingerprint matches whatever its spaces and case; nothing typed never matches", () => {
  const shown = "3f2a 9c1e 0000 ffff";
  assert.ok(sameFingerprint("3F2A9C1E 0000\tFFFF ", shown));
  assert.ok(!sameFingerprint("3f2a 9c1e 0000 fffe", shown));
  assert.ok(!sameFingerprint("  ", ""));
});

test("an NGO's report paths: the form and the submissions; anything below is missing", () => {
  assert.deepEqual(parseRoute("/reports/new"), { page: "report" });
  assert.deepEqual(parseRoute("/reports/new/"), { page: "report" });
  assert.deepEqual(parseRoute("/reports/upload"), { page: "upload" });
  assert.deepEqual(parseRoute("/reports"), { page: "reports" });
  assert.deepEqual(parseRoute("/reports/rpt_1"), { page: "missing" });
});

test("the report body is the SDK's: empty optional fields left out, the subject only tokens", () => {
  const draft = {
    ...emptyDraft(new Date(2026, 10, 20, 6, 40)),
    client_report_id: " kg-1 ",
    incident_type: "detention",
    country: "kg",
    locality: "  ",
    requesting_state: "ru",
    charges: [
      { state: "ru", code: "cc", article: "207.3" },
      { state: "RU", code: "", article: "280.3" },
      { state: "", code: "", article: "" },
    ],
    narrative: "<b>held</b>",
  };
  const tokens = [{ kind: "name" as const, version: 1, value: "A".repeat(86) }];
  const body = reportBody(draft, tokens);
  assert.equal(body.client_report_id, "kg-1");
  assert.deepEqual(body.place, { country: "KG", facility_kind: "unknown" });
  assert.equal(body.requesting_state, "RU");
  assert.deepEqual(body.charges, [
    { state: "RU", code: "CC", article: "207.3" },
    { state: "RU", article: "280.3" },
  ]);
  assert.equal(body.narrative, "<b>held</b>");
  assert.equal("detaining_authority" in body, false);
  assert.equal("contact_instructions" in body, false);
  assert.deepEqual(body.subject, { tokens, sex: "unknown" });
  assert.equal(body.tlp, "AMBER");
  assert.match(String(body.occurred_at), /^2026-11-20T06:40:00[+-]\d\d:\d\d$/);
});

test("a fresh form has its own reference; a time carries its offset", () => {
  assert.match(emptyDraft().client_report_id, /^console-[A-Za-z0-9._:-]+$/);
  assert.notEqual(emptyDraft().client_report_id, emptyDraft().client_report_id);
  assert.match(localTimeWithOffset(new Date(2026, 0, 2, 3, 4)), /^2026-01-02T03:04:00[+-]\d\d:\d\d$/);
});

test("intake's error paths land on the field they name", () => {
  assert.equal(fieldOf("place.country"), "place.country");
  assert.equal(fieldOf("charges.0.article"), "charges");
  assert.equal(fieldOf("subject.tokens"), "subject");
  assert.equal(fieldOf("occurred_at"), "occurred_at");
  assert.equal(fieldOf("place"), "place.country");
  assert.equal(fieldOf("body"), "report");
});
