// The browser's canonicaliser: spot checks (the full parity with Python is
// tests/integration/console/test_identity_parity.py).
import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalKeys, encodeKey } from "../src/identity/canonical.ts";
import { parseDob } from "../src/identity/dates.ts";
import { IdentityInputError } from "../src/identity/rules.ts";
import { casefold, foldWord } from "../src/identity/translit.ts";

test("spellings of one name fold alike, across scripts and systems", () => {
  for (const row of [
    ["Хрущёв", "Khrushchev", "Chruschtschow", "Khrouchtchev", "Hruŝëv"],
    ["Саакашвили", "Saakaschwili", "სააკაშვილი", "ᲡᲐᲐᲙᲐᲨᲕᲘᲚᲘ"],
    ["Пашинян", "Pashinian", "Փաշինյան", "ՓԱՇԻՆՅԱՆ"],
  ]) {
    assert.equal(new Set(row.map(foldWord)).size, 1, row.join(" "));
  }
});

test("casefold is Python's, not toLowerCase: ß, ſ, ligatures, Armenian և", () => {
  assert.equal(casefold("STRAßE ſ ﬁ և"), "strasse s fi եւ");
});

test("keys carry the canonicaliser version and kind, in Python's order", () => {
  const keys = canonicalKeys("SOBOLEV, Mikhail Mikhaylovich", "18.01.1984");
  assert.deepEqual(
    keys.map((k) => k.kind),
    ["name", "name_dob", "name_year"].concat(Array(2).fill("part_dob_head")).concat(
      Array(2).fill("part_dob_tail"),
    ),
  );
  assert.equal(
    new TextDecoder().decode(encodeKey(keys[1])),
    "lifeline-identity/2/name_dob/Sobolev miHail|1984-01-18",
  );
});

test("national forms meet the Russian form: Ukrainian, Belarusian, Kazakh, Kyrgyz", () => {
  const whole = (name: string) =>
    canonicalKeys(name, "1980-02-03").find((key) => key.kind === "name_dob")?.text;
  for (const [national, russian] of [
    ["Mykhailo Shevchenko", "Михаил Шевченко"],
    ["Олена Ткаченко", "Elena Tkachenko"],
    ["Дзмітрый Іваноў", "Dmitry Ivanov"],
    ["Volha Maksimava", "Ольга Максимова"],
    ["Нұрланұлы Асқар", "Аскар Нурланов"],
    ["Dinara Zhumabekqyzy", "Динара Жумабекова"],
    ["Azamat Nurlan uulu", "Нурланов Азамат"],
  ]) {
    assert.equal(whole(national), whole(russian), national);
  }
  assert.notEqual(whole("Oleksandr Shevchenko"), whole("Oleksandra Shevchenko"));
});

test("dates: Unicode digits as Python reads them, year only, and the errors by code", () => {
  assert.deepEqual(parseDob("١٤.٠٣.١٩٩٩"), { year: 1999, full: "1999-03-14" });
  assert.deepEqual(parseDob(" 1999-03 "), { year: 1999, full: null });
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      return error instanceof IdentityInputError ? error.code : "other";
    }
    return "none";
  };
  assert.equal(code(() => parseDob("1999-02-30")), "dob_not_date");
  assert.equal(code(() => parseDob("1889")), "dob_year_range");
  assert.equal(code(() => parseDob("1999-13")), "dob_month_range");
  assert.equal(code(() => parseDob("14/03/1999")), "dob_format");
  assert.equal(code(() => canonicalKeys("123", null)), "name_no_letters");
  assert.equal(code(() => canonicalKeys("V. K.", null)), "name_no_parts");
});
