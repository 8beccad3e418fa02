// Charge articles: the console accepts and normalises exactly what intake does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { canonicalArticle } from "../src/charges.ts";
import { emptyDraft, reportBody } from "../src/report.ts";
import { checkDraft } from "../src/report-specs.ts";
import { occurredFrom } from "../src/uploads/report-rows.ts";

const VECTORS: { accepted: [string, string][]; refused: string[] } = JSON.parse(
  readFileSync(new URL("../../../../tests/vectors/charge-articles.json", import.meta.url), "utf8"),
);

test("every written form gives the stored form intake keeps", () => {
  for (const [written, stored] of VECTORS.accepted) {
    assert.equal(canonicalArticle(written), stored, written);
    assert.equal(canonicalArticle(stored), stored, stored);
  }
});

test("what intake refuses, the console refuses", () => {
  for (const written of VECTORS.refused) assert.equal(canonicalArticle(written), null, written);
});

test("the form checks and sends charges in the stored form", () => {
  const draft = { ...emptyDraft(), charges: [{ state: "by", code: "", article: "ч. 1 ст. 361-1" }] };
  assert.deepEqual(
    checkDraft(draft).filter((p) => p.path === "charges"),
    [],
  );
  assert.deepEqual(reportBody(draft, null).charges, [{ state: "BY", article: "361-1(1)" }]);
  const bad = { ...draft, charges: [{ state: "RU", code: "CC", article: "статья" }] };
  assert.deepEqual(
    checkDraft(bad).filter((p) => p.path === "charges"),
    [{ path: "charges", reason: "charge" }],
  );
});

test("a day-first date from a Russian spreadsheet is read as the CLI reads it", () => {
  assert.equal(occurredFrom("20.11.2026"), "2026-11-20");
  assert.equal(occurredFrom("1.2.2026"), "2026-02-01");
  assert.equal(occurredFrom("2026-11-20T06:40:00+06:00"), "2026-11-20T06:40:00+06:00");
});
