/** Transliteration folding, as libs/common/identity/translit.py: same rules, same results. */

import CASEFOLD from "./casefold.json" with { type: "json" };
import { DATA } from "./rules.ts";

const T = DATA.translit;
const SCRIPTS = new Map<string, string>(
  Object.entries({ ...T.cyrillic, ...T.georgian, ...T.armenian, ...T.letters }),
);
const FOLD = new Map<string, string>(Object.entries(CASEFOLD));
const MARKS = new RegExp(`^${T.marks}`);
// No `u` flag: the shared patterns are written in the syntax Python and V8 read alike.
const COMPILED = T.rules.map((rule) => [new RegExp(rule.pattern, "g"), rule.replacement] as const);
// Python's `.` (anything but \n), which JavaScript's `.` is not (it also skips \r, \u2028).
const DOUBLES = /([^\n])\1+/g;
const KEPT = /^(?:[a-z]|\p{Uppercase})$/u;

/** Python's str.casefold(): lower-casing plus the full case folding where it differs. */
export function casefold(text: string): string {
  let out = "";
  for (const char of text) out += FOLD.get(char) ?? char.toLowerCase();
  return out;
}

/** Lower-case `word` and spell it in plain Latin letters (stages 1 and 2). */
export function toLatin(word: string): string {
  let out = "";
  for (const char of casefold(word).normalize("NFC")) {
    const mapped = SCRIPTS.get(char);
    if (mapped !== undefined) {
      out += mapped;
      continue;
    }
    // Other accented letters keep their base letter (the first code point of the NFD form).
    const base = String.fromCodePoint(char.normalize("NFD").codePointAt(0)!);
    out += base.codePointAt(0)! < 0x80 || MARKS.test(char) ? base : "";
  }
  return out;
}

function foldLatin(text: string): string {
  for (const [pattern, replacement] of COMPILED) text = text.replace(pattern, () => replacement);
  text = text.replace(DOUBLES, "$1");
  // Capital class letters survive; any stray punctuation or digit does not.
  return Array.from(text)
    .filter((c) => KEPT.test(c))
    .join("");
}

/** The phonetic form of one name word; equal for all its usual spellings. */
export function foldWord(word: string): string {
  return foldLatin(toLatin(word));
}

/** The reading of a word whose j stands for ж (French Jukov, informal Rojkova), or null. */
export function foldWordAlternative(word: string): string | null {
  const latin = toLatin(word);
  if (!latin.includes("j")) return null;
  const alternative = foldLatin(latin.replace(/j/g, "zh"));
  return alternative !== foldLatin(latin) ? alternative : null;
}
