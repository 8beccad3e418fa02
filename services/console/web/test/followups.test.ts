// A follow-up's form: the report it follows from the page's address, and its body.
import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyDraft, followsFrom, reportBody } from "../src/report.ts";

test("the followed report comes from ?follows= and nothing else is taken for one", () => {
  const id = "2f1c7a54-7a7e-4d8e-9d55-0f3b8f4f3c11";
  assert.equal(followsFrom(`?follows=${id}`), id);
  assert.equal(followsFrom(""), null);
  assert.equal(followsFrom("?follows="), null);
  assert.equal(followsFrom("?follows=%3Cscript%3E"), null);
  assert.equal(followsFrom(`?follows=${"a".repeat(65)}`), null);
});

test("a follow-up's body names its original and status, and carries no subject", () => {
  const draft = {
    ...emptyDraft(new Date(2026, 10, 21, 9, 0)),
    follows: "2f1c7a54-7a7e-4d8e-9d55-0f3b8f4f3c11",
    status: "deported",
    incident_type: "deportation",
    country: "kg",
  };
  const body = reportBody(draft, null);
  assert.equal(body.follows, draft.follows);
  assert.equal(body.status, "deported");
  assert.equal("subject" in body, false);
  // A new case has no `follows` and keeps its subject.
  const fresh = reportBody({ ...draft, follows: "" }, []);
  assert.equal("follows" in fresh, false);
  assert.deepEqual(fresh.subject, { tokens: [], sex: "unknown" });
});
