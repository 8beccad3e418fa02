// CSV uploads: the file's encoding and delimiter as spreadsheets save them, quoted fields with
// newlines, and rows mapped onto the report form's drafts and the watchlist's entries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../src/api.ts";
import { prepareEach } from "../src/identity/batch.ts";
import { CsvFileError, decode, detectDelimiter, parseCsv } from "../src/uploads/csv.ts";
import {
  chargesFrom,
  clientReportId,
  REPORT_COLUMNS,
  REPORT_REQUIRED,
  reportRow,
} from "../src/uploads/report-rows.ts";
import { withRetry } from "../src/uploads/retry.ts";
import { WATCHLIST_COLUMNS, WATCHLIST_REQUIRED, watchRows } from "../src/uploads/watchlist-rows.ts";

// What `lifeline report template --format csv` prints.
const TEMPLATE = [
  REPORT_COLUMNS.join(","),
  'kg-2026-0042,,detention,cis_interstate_search,2026-11-20T06:40:00+06:00,KG,Bishkek,airport,RU,' +
    'RU:CC:207.3,"Border service, Manas airport",ongoing,AMBER,Detained at passport control on ' +
    "arrival from Istanbul.,Call our duty phone; ask for the case number.,SKORIAKIN LEV," +
    "14.03.1999,male",
].join("\r\n");

/** Windows-1251 bytes of `text` (what a Russian Excel saves), by inverting the decoder. */
function cp1251(text: string): Uint8Array {
  const decoder = new TextDecoder("windows-1251");
  const table = new Map<string, number>();
  for (let b = 0; b < 256; b++) table.set(decoder.decode(new Uint8Array([b])), b);
  return Uint8Array.from(Array.from(text, (c) => table.get(c) ?? 0x3f));
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const withBom = (bytes: Uint8Array) => Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes]);

test("a Russian Excel's file: Windows-1251 with ';' is detected and read", () => {
  const text = [
    "person_name;person_dob;incident_type;occurred_at;country;narrative",
    "Лев Скорякин;14.03.1999;detention;2026-11-20;KG;Задержан в аэропорту, в зоне «Манас»",
    "Ёлкина Мария;1990;deportation;2026-11-21;GE;Депортирована",
  ].join("\r\n");
  const bytes = cp1251(text);
  assert.throws(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  const parsed = parseCsv(bytes, REPORT_COLUMNS, REPORT_REQUIRED);
  assert.equal(parsed.encoding, "windows-1251");
  assert.equal(parsed.delimiter, ";");
  assert.deepEqual(parsed.missing, []);
  assert.equal(parsed.rows.length, 2);
  assert.equal(parsed.rows[0].cells.person_name, "Лев Скорякин");
  // A comma inside a ';' file is text, not a column break.
  assert.equal(parsed.rows[0].cells.narrative, "Задержан в аэропорту, в зоне «Манас»");
  assert.equal(parsed.rows[1].cells.person_name, "Ёлкина Мария");
  assert.deepEqual(
    parsed.rows.map((r) => r.line),
    [2, 3],
  );
});

test("the CLI's template saved as UTF-8 with a BOM: ',' and every column known", () => {
  const parsed = parseCsv(withBom(utf8(TEMPLATE)), REPORT_COLUMNS, REPORT_REQUIRED);
  assert.equal(parsed.encoding, "utf-8");
  assert.equal(parsed.delimiter, ",");
  assert.deepEqual(parsed.columns, [...REPORT_COLUMNS]); // the BOM is not in the first name
  assert.deepEqual(parsed.unknown, []);
  const [row] = parsed.rows;
  assert.equal(row.cells.detaining_authority, "Border service, Manas airport");
  assert.equal(row.cells.contact_instructions, "Call our duty phone; ask for the case number.");
});

test("quoted fields may hold newlines, delimiters and quotes; line numbers follow the file", () => {
  const text =
    "label,name,dob\n" +
    'client 1,"Sobolev,\nMikhail",1984-01-18\n' +
    "\n" +
    'client "2",Лев Скорякин,1999\n' +
    '"client\r\n3","He said ""no""",\n';
  const parsed = parseCsv(utf8(text), WATCHLIST_COLUMNS, WATCHLIST_REQUIRED);
  assert.equal(parsed.rows.length, 3);
  assert.equal(parsed.rows[0].cells.name, "Sobolev,\nMikhail");
  assert.equal(parsed.rows[2].cells.label, "client\n3"); // as a textarea gives a newline
  assert.equal(parsed.rows[2].cells.name, 'He said "no"');
  assert.deepEqual(
    parsed.rows.map((r) => r.line),
    [2, 5, 6],
  );
});

test("UTF-16 (what Excel saves as Unicode text), with or without its mark, and tabs", () => {
  const text = "label\tname\tdob\nclient 1\tЛев Скорякин\t1999-03-14\n";
  const le = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    le[2 * i] = text.charCodeAt(i) & 0xff;
    le[2 * i + 1] = text.charCodeAt(i) >> 8;
  }
  for (const bytes of [Uint8Array.from([0xff, 0xfe, ...le]), le]) {
    const parsed = parseCsv(bytes, WATCHLIST_COLUMNS, WATCHLIST_REQUIRED);
    assert.equal(parsed.encoding, "utf-16le");
    assert.equal(parsed.delimiter, "\t");
    assert.equal(parsed.rows[0].cells.name, "Лев Скорякин");
  }
  assert.equal(decode(utf8("plain")).encoding, "utf-8");
});

test("the delimiter is the one that splits the header into known columns", () => {
  assert.equal(detectDelimiter("label;name;dob\nx,y;z", WATCHLIST_COLUMNS), ";");
  assert.equal(detectDelimiter('"label","name"\n', WATCHLIST_COLUMNS), ",");
  assert.equal(detectDelimiter("label|name|dob\n", WATCHLIST_COLUMNS), "|"); // as the CLI reads it
  assert.throws(
    () => parseCsv(utf8("foo,bar\n1,2\n"), WATCHLIST_COLUMNS, WATCHLIST_REQUIRED),
    (e: unknown) => e instanceof CsvFileError && e.code === "no_header",
  );
  assert.throws(
    () => parseCsv(utf8("  \n"), WATCHLIST_COLUMNS, WATCHLIST_REQUIRED),
    (e: unknown) => e instanceof CsvFileError && e.code === "empty",
  );
  const missing = parseCsv(utf8("label,dob\nx,1999\n"), WATCHLIST_COLUMNS, WATCHLIST_REQUIRED);
  assert.deepEqual(missing.missing, ["name"]);
});

test("a template row becomes the form's draft; the same file gives the same reference", () => {
  const parsed = parseCsv(utf8(TEMPLATE), REPORT_COLUMNS, REPORT_REQUIRED);
  const row = reportRow(parsed.rows[0], "00ff00ff00ff00ff", parsed.unknown);
  assert.deepEqual(row.problems, []);
  assert.deepEqual(row.person, ["SKORIAKIN LEV", "14.03.1999"]);
  assert.equal(row.draft.client_report_id, "kg-2026-0042");
  assert.equal(row.draft.country, "KG");
  assert.equal(row.draft.facility_kind, "airport");
  assert.equal(row.draft.sex, "male");
  assert.deepEqual(row.draft.charges, [{ state: "RU", code: "CC", article: "207.3" }]);
  // No reference of its own: one from the file's digest and the row's line, stable on retry.
  assert.equal(clientReportId("", "00ff00ff00ff00ff", 7), "upload-00ff00ff00ff00ff-7");
  assert.deepEqual(chargesFrom("RU:CC:207.3; RU:280.3;;"), [
    { state: "RU", code: "CC", article: "207.3" },
    { state: "RU", code: "CC", article: "280.3" },
  ]);
});

test("a follow-up row names the report it follows and needs no person (as the CLI reads it)", () => {
  const text =
    "follows,incident_type,occurred_at,country,status,person_name\n" +
    "rpt_0123456789abcdef,detention,2026-11-21T10:00:00+06:00,KG,deported,\n" +
    ",detention,2026-11-21T10:00:00+06:00,KG,ongoing,\n";
  const parsed = parseCsv(utf8(text), REPORT_COLUMNS, REPORT_REQUIRED);
  const [followUp, unnamed] = parsed.rows.map((r) => reportRow(r, "d", parsed.unknown));
  assert.deepEqual(followUp.problems, []);
  assert.equal(followUp.person, null);
  assert.equal(followUp.draft.follows, "rpt_0123456789abcdef");
  // A new case still names its person.
  assert.deepEqual(unnamed.problems, [{ path: "subject", reason: "required" }]);
});

test("a row is checked by the form's specs; an unknown column refuses it", () => {
  const text =
    "person_name,incident_type,occurred_at,country,tlp,charges,colour\n" +
    ",arrest,,KGZ,PURPLE,RU:abc,red\n";
  const parsed = parseCsv(utf8(text), REPORT_COLUMNS, REPORT_REQUIRED);
  assert.deepEqual(parsed.unknown, ["colour"]);
  const row = reportRow(parsed.rows[0], "d", parsed.unknown);
  assert.deepEqual(
    row.problems.map((p) => `${p.path}:${p.reason}`).sort(),
    [
      "charges:charge",
      "incident_type:choice",
      "occurred_at:required",
      "place.country:too_long",
      "report:unknown_column",
      "subject:required",
      "tlp:choice",
    ],
  );
});

test("watchlist rows: the CLI's checks, its rule, a label used twice refused", () => {
  const text =
    "label,name,dob,incident_types,legal_bases,countries\n" +
    "client 1,Лев Скорякин,1999-03-14,detention;deportation,,kg;ge\n" +
    "client 2,Maria Yolkina,1990,,,\n" +
    ",No Label,,,,\n" +
    "client 1,Someone Else,,,,\n" +
    "client 3,Ivan Petrov,,arrest,,\n";
  const rows = watchRows(parseCsv(utf8(text), WATCHLIST_COLUMNS, WATCHLIST_REQUIRED).rows);
  assert.deepEqual(
    rows.map((r) => r.problem),
    [null, null, "label_empty", "label_repeated", "rule"],
  );
  assert.deepEqual(rows[0].rule, {
    incident_types: ["detention", "deportation"],
    legal_bases: [],
    countries: ["KG", "GE"],
  });
  assert.equal(rows[1].rule, null);
  assert.deepEqual(rows[1].person, ["Maria Yolkina", "1990"]);
});

test("the worker's batch refuses a bad identity alone and blinds the others", () => {
  const { prepared, errors } = prepareEach([
    ["Лев Скорякин", "1999-03-14"],
    ["12345", null],
    ["Maria Yolkina", "31.02.1990"],
    ["Maria Yolkina", "1990"],
  ]);
  assert.deepEqual(errors, [null, "name_no_letters", "dob_not_date", null]);
  assert.equal(prepared.groups.length, 2);
  assert.equal(prepared.blinded.length, prepared.groups.flat().length);
});

test("a row is sent again after a lost answer or a busy service, 3 times at most", async () => {
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
  };
  let calls = 0;
  const flaky = async () => {
    calls++;
    if (calls === 1) throw new TypeError("Failed to fetch");
    if (calls === 2) throw new ApiError(503, "unavailable", "");
    return "ok";
  };
  assert.equal(await withRetry(flaky, 3, wait), "ok");
  assert.deepEqual(waits, [1000, 2000]);
  calls = 0;
  const refused = async () => {
    calls++;
    throw new ApiError(422, "invalid", "", [{ path: "place.country", reason: "no" }]);
  };
  await assert.rejects(withRetry(refused, 3, wait), ApiError);
  assert.equal(calls, 1); // a refusal is an answer: never sent again
  calls = 0;
  const busy = async () => {
    calls++;
    throw new ApiError(429, "rate_limited", "");
  };
  await assert.rejects(withRetry(busy, 3, wait), ApiError);
  assert.equal(calls, 3);
  // The first try of the row's Idempotency-Key is still running: wait for it; a key used for
  // another row is a refusal like any 409.
  calls = 0;
  const running = async () => {
    calls++;
    if (calls === 1) throw new ApiError(409, "idempotency_in_progress", "");
    return "first answer";
  };
  assert.equal(await withRetry(running, 3, wait), "first answer");
  calls = 0;
  const reused = async () => {
    calls++;
    throw new ApiError(409, "idempotency_key_reused", "");
  };
  await assert.rejects(withRetry(reused, 3, wait), ApiError);
  assert.equal(calls, 1);
});
