// Catalogues: the same messages in both languages, plural forms, the browser's language.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CATALOGUES, format, pickLanguage } from "../src/i18n/index.ts";

function placeholders(entry: unknown): string[] {
  const texts = typeof entry === "string" ? [entry] : Object.values(entry as object);
  return [...new Set(texts.flatMap((t: string) => t.match(/\{\w+\}/g) ?? []))].sort();
}

test("English and Russian have exactly the same keys and placeholders", () => {
  const { en, ru } = CATALOGUES;
  assert.deepEqual(Object.keys(ru).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) {
    // A plural message may leave {count} out of its "one" form ("New alert: {label}").
    const strip = (list: string[]) => list.filter((p) => p !== "{count}");
    assert.deepEqual(strip(placeholders(ru[key])), strip(placeholders(en[key])), key);
  }
});

test("Russian plural messages have the one, few and many forms", () => {
  for (const [key, entry] of Object.entries(CATALOGUES.ru)) {
    if (typeof entry === "string") continue;
    for (const form of ["one", "few", "many", "other"]) assert.ok(form in entry, `${key}.${form}`);
  }
  const rules = new Intl.PluralRules("ru");
  assert.deepEqual([1, 2, 5, 21, 11].map((n) => rules.select(n)), ["one", "few", "many", "one", "many"]);
});

test("the language comes from the stored choice, then the browser, else English", () => {
  assert.equal(pickLanguage(["ru-RU", "en"], null), "ru");
  assert.equal(pickLanguage(["de-DE", "en-GB"], null), "en");
  assert.equal(pickLanguage(["ka-GE"], null), "en");
  assert.equal(pickLanguage(["ru"], "en"), "en");
  assert.equal(pickLanguage([], "bogus"), "en");
});

test("format fills named values and leaves unknown ones visible", () => {
  assert.equal(format("{a} and {b}", { a: 1 }), "1 and {b}");
});

test("no message holds markup: every text is rendered as text", () => {
  for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
    for (const [key, entry] of Object.entries(catalogue)) {
      for (const text of typeof entry === "string" ? [entry] : Object.values(entry)) {
        assert.ok(!/[<>]/.test(text), `${lang} ${key}`);
      }
    }
  }
});
