/** Name layout, as libs/common/identity/names.py: folded parts and the patronymic set aside. */

import { editDistance } from "./fuzzy.ts";
import { codePointLength, DATA, IdentityInputError } from "./rules.ts";
import { foldWord, foldWordAlternative } from "./translit.ts";

const N = DATA.names;
const PATRONYMIC_ENDINGS = N.patronymic_endings.map((entry) => entry.ending);
const PARTICLES = new Set(N.patronymic_particles);
const SPLIT = new RegExp(N.split);
const HYPHENS = new RegExp(N.hyphens, "g");
// Kazakh/Kyrgyz -uly/-uulu/-kyzy surnames: the Russian ending they stand for, first fit wins.
const TURKIC = N.turkic_surname_endings.map((entry) => [entry.ending, entry.replacement] as const);
const MIN_STEM: number = DATA.canonical.min_stem;

/** Folded national given-name form → folded Russian form (Mykhailo, Mikhal → Mikhail). */
export const GIVEN_NAME_FORMS: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  for (const entry of N.given_name_forms) {
    const russian = foldWord(entry.russian);
    for (const form of entry.forms) {
      const folded = foldWord(form);
      if (folded !== russian) table.set(folded, russian);
    }
  }
  return table;
})();

// Python's [^\W\d_]: letters and the numerics that are not decimal digits.
export const LETTER = /[\p{L}\p{Nl}\p{No}]/u;

/** One written word: its folded form, another reading if ambiguous, the form before the
 * national form was replaced by the Russian one (`written`, else null), and whether the Turkic
 * surname rule made that replacement (see `partForm`). */
export interface Word {
  folded: string;
  alternative: string | null;
  written: string | null;
  turkic: boolean;
}

/** The form a part key reads: the written one if the Turkic rule read the word (a -kyzy
 * surname read as -ova would share its ending with other families' -ova). */
export function partForm(word: Word, reading: string): string {
  return word.turkic && word.written ? word.written : reading;
}

export interface ParsedName {
  parts: Word[];
  patronymic: Word | null;
}

function words(text: string): Word[] {
  const out: Word[] = [];
  for (const raw of text.split(SPLIT)) {
    const joined = raw.replace(HYPHENS, "");
    const folded = foldWord(joined);
    // Initials (V. Putin) carry too little to match on and would only split the key.
    if (codePointLength(folded) > 1) {
      out.push({ folded, alternative: foldWordAlternative(joined), written: null, turkic: false });
    }
  }
  return out;
}

function isPatronymic(word: Word): boolean {
  const text = word.folded;
  return (
    codePointLength(text) >= N.min_patronymic_chars &&
    PATRONYMIC_ENDINGS.some((ending) => text.endsWith(ending))
  );
}

function isNearPatronymic(word: Word): boolean {
  const text = word.folded;
  if (codePointLength(text) < 6 || N.surname_endings.some((e) => text.endsWith(e))) return false;
  return N.fuzzy_patronymic_endings.some((ending) =>
    [ending.length - 1, ending.length, ending.length + 1].some(
      (size) => editDistance(text.slice(-size), ending) <= 1,
    ),
  );
}

/** The Russian surname a Kazakh/Kyrgyz -uly/-uulu/-kyzy surname stands for, if it is one. */
function turkicForm(folded: string): string | null {
  for (const [ending, replacement] of TURKIC) {
    if (folded.endsWith(ending) && codePointLength(folded) - codePointLength(ending) >= MIN_STEM) {
      return folded.slice(0, -ending.length) + replacement;
    }
  }
  return null;
}

/** The folded Russian form of a folded name part: national given names, Turkic surnames. */
export function russianForm(folded: string): string {
  return GIVEN_NAME_FORMS.get(folded) ?? turkicForm(folded) ?? folded;
}

function russianWord(word: Word): Word {
  const folded = russianForm(word.folded);
  const alternative = word.alternative ? russianForm(word.alternative) : null;
  return {
    folded,
    alternative: alternative !== folded ? alternative : null,
    written: folded !== word.folded ? word.folded : null,
    turkic: !GIVEN_NAME_FORMS.has(word.folded) && turkicForm(word.folded) !== null,
  };
}

function mergeParticles(list: Word[]): [Word[], Word | null] {
  for (let index = 1; index < list.length; index++) {
    if (PARTICLES.has(list[index].folded)) {
      const father = list[index - 1];
      const rest = [...list.slice(0, index - 1), ...list.slice(index + 1)];
      const folded = father.folded + list[index].folded;
      // The father's name keeps its j-as-ж reading (Jumabek uulu): it may be the surname.
      const alternative = father.alternative ? father.alternative + list[index].folded : null;
      return [rest, { folded, alternative, written: null, turkic: false }];
    }
  }
  return [list, null];
}

function pickPatronymic(list: Word[]): number | null {
  if (list.length < 3) return null;
  for (const test of [isPatronymic, isNearPatronymic]) {
    for (let index = 1; index < list.length; index++) if (test(list[index])) return index;
  }
  return null;
}

/** Split a written name into folded main parts and an optional patronymic. */
export function parseName(text: string): ParsedName {
  if (typeof text !== "string") throw new IdentityInputError("name_type");
  if (codePointLength(text) > N.max_name_chars) throw new IdentityInputError("name_too_long");
  if (!LETTER.test(text)) throw new IdentityInputError("name_no_letters");
  const comma = text.indexOf(",");
  let list: Word[];
  let patronymic: Word | null;
  if (comma >= 0) {
    const surname = words(text.slice(0, comma));
    let rest: Word[];
    [rest, patronymic] = mergeParticles(words(text.slice(comma + 1)));
    // "Surname, Given Patronymic": the word after the given name is the patronymic by position.
    if (patronymic === null && rest.length >= 2 && surname.length > 0) {
      patronymic = rest[1];
      rest = [rest[0], ...rest.slice(2)];
    }
    list = [...surname, ...rest];
  } else {
    [list, patronymic] = mergeParticles(words(text));
    if (patronymic !== null && list.length < 2) {
      // "Azamat Nurlan uulu": with no surname, the father's name is the family name.
      list = [...list, patronymic];
      patronymic = null;
    } else if (patronymic === null) {
      const index = pickPatronymic(list);
      if (index !== null) patronymic = list.splice(index, 1)[0];
    }
  }
  if (list.length === 0) {
    // A lone word that looks like a patronymic is still all we know about the person.
    if (patronymic === null) throw new IdentityInputError("name_no_parts");
    list = [patronymic];
    patronymic = null;
  }
  if (list.length > N.max_words) throw new IdentityInputError("name_too_many_words");
  // Only now: the national suffixes (-uly, -kyzy) must first have a chance to be patronymics.
  return { parts: list.map(russianWord), patronymic };
}
