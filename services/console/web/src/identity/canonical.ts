/** Canonical keys, as libs/common/identity/canonical.py: the same kinds, texts and bytes. */

import { type BirthDate, parseDob } from "./dates.ts";
import { headSignature, tailSignature } from "./fuzzy.ts";
import { type ParsedName, parseName, partForm, type Word } from "./names.ts";
import { compareCodePoints, DATA } from "./rules.ts";

const C = DATA.canonical;
export const CANONICAL_VERSION: number = C.version;

export const KINDS = ["name_dob", "name_year", "name", "part_dob_head", "part_dob_tail"] as const;
export type Kind = (typeof KINDS)[number];

/** One labelled key; never sent: it becomes an OPRF input (`encodeKey`). */
export interface CanonicalKey {
  kind: Kind;
  text: string;
}

/** Domain-separated bytes: the canonicaliser version, the kind and the text. */
export function encodeKey(key: CanonicalKey): Uint8Array {
  return new TextEncoder().encode(`lifeline-identity/${CANONICAL_VERSION}/${key.kind}/${key.text}`);
}

/** Python's CanonicalKey order: by kind, then text, by code point. */
export function compareKeys(a: CanonicalKey, b: CanonicalKey): number {
  return compareCodePoints(a.kind, b.kind) || compareCodePoints(a.text, b.text);
}

const stem = (part: string, ending: string) =>
  part.endsWith(ending) && part.length - ending.length >= C.min_stem;

/** The masculine form of a part with a feminine-only surname ending; others unchanged. */
export function foldSurnameGender(part: string): string {
  for (const { feminine, masculine } of C.feminine_surname_endings) {
    if (stem(part, feminine)) return part.slice(0, -feminine.length) + masculine;
  }
  return part;
}

/** Whether a part ends like a surname whose form differs for men and women. */
export function showsSex(part: string): boolean {
  return C.gendered_surname_endings.some((ending) => stem(part, ending));
}

const sorted = (items: string[]) => [...items].sort(compareCodePoints);

function readings(name: ParsedName): string[] {
  const out = [name.parts.map((word) => word.folded)];
  if (name.parts.some((word) => word.alternative)) {
    out.push(name.parts.map((word) => word.alternative || word.folded));
  }
  return out.map((parts) => sorted(parts.map(foldSurnameGender)).join(" "));
}

function partKeys(parts: string[], date: string, add: (kind: Kind, text: string) => void): void {
  parts.forEach((anchor, index) => {
    // The anchor stays unfolded; under a surname that shows no sex, the head carries the sex.
    const rest = sorted([...parts.slice(0, index), ...parts.slice(index + 1)]).join("");
    add("part_dob_head", `${anchor}|${date}|${headSignature(rest, !showsSex(anchor))}`);
    add("part_dob_tail", `${anchor}|${date}|${tailSignature(rest)}`);
  });
}

// A surname the Turkic rule read enters the part keys as written (`partForm`).
const READINGS: ((word: Word) => string)[] = [
  (word) => partForm(word, word.folded),
  (word) => word.written ?? word.folded,
  (word) => partForm(word, word.alternative || word.folded),
];

/** The canonical keys of an already parsed name and date of birth, in Python's sorted order. */
export function keysFor(name: ParsedName, dob: BirthDate): CanonicalKey[] {
  const keys = new Map<string, CanonicalKey>();
  const add = (kind: Kind, text: string) => keys.set(`${kind}\u0000${text}`, { kind, text });
  for (const text of readings(name)) {
    add("name", text);
    if (dob.year !== null) add("name_year", `${text}|${String(dob.year).padStart(4, "0")}`);
    if (dob.full !== null) add("name_dob", `${text}|${dob.full}`);
  }
  const count = name.parts.length;
  const date = dob.full;
  if (date !== null && count >= 2 && count <= C.max_parts_for_part_keys) {
    // Besides the folded parts: the national form as written (a typo in Alena still meets it)
    // and the j-as-ж reading (Jukov and a typo); equal readings add the same keys.
    for (const reading of READINGS) partKeys(name.parts.map(reading), date, add);
  }
  return [...keys.values()].sort(compareKeys);
}

/** Canonical keys of a written name and date of birth (throws IdentityInputError on bad input). */
export function canonicalKeys(name: string, dob: string | null): CanonicalKey[] {
  return keysFor(parseName(name), parseDob(dob));
}
