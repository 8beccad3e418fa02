/** Dates of birth, as libs/common/identity/dates.py: full, year only, or unknown. */

import { DATA, IdentityInputError } from "./rules.ts";

const { min_year: MIN_YEAR, max_year: MAX_YEAR } = DATA.dates;
// Python's \d is any Unicode decimal digit (٣, ३ …) and int() reads them: so do these.
const ISO = /^(\p{Nd}{4})(?:-(\p{Nd}{2})(?:-(\p{Nd}{2}))?)?$/u;
const DOTTED = /^(\p{Nd}{1,2})\.(\p{Nd}{1,2})\.(\p{Nd}{4})$/u;
const DIGIT = /^\p{Nd}$/u;
const SPACES = `[${DATA.names.whitespace}]+`;
// str.strip(): Python's whitespace, which String.prototype.trim's is not (\x1c-\x1f, \x85, BOM).
const STRIP = new RegExp(`^${SPACES}|${SPACES}$`, "g");

/** A date of birth: `full` is YYYY-MM-DD when known to the day, `year` when known at all. */
export interface BirthDate {
  year: number | null;
  full: string | null;
}

/** A decimal digit's value: its place in its script's run of ten (Unicode keeps 0-9 together). */
function digitValue(char: string): number {
  let code = char.codePointAt(0)!;
  let place = 0;
  while (DIGIT.test(String.fromCodePoint(code - 1))) {
    code--;
    place++;
  }
  return place % 10;
}

function toInt(digits: string): number {
  let value = 0;
  for (const char of digits) value = value * 10 + digitValue(char);
  return value;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad = (value: number, width: number) => String(value).padStart(width, "0");

/** Read YYYY-MM-DD, YYYY-MM or YYYY (year precision), DD.MM.YYYY, or null/"" (unknown). */
export function parseDob(input: string | null | undefined): BirthDate {
  if (input === null || input === undefined) return { year: null, full: null };
  if (typeof input !== "string") throw new IdentityInputError("dob_type");
  const text = input.replace(STRIP, "");
  if (!text) return { year: null, full: null };
  let year: number;
  let month: number;
  let day: number;
  const dotted = DOTTED.exec(text);
  const iso = dotted ? null : ISO.exec(text);
  if (dotted) {
    [day, month, year] = [toInt(dotted[1]), toInt(dotted[2]), toInt(dotted[3])];
  } else if (iso) {
    year = toInt(iso[1]);
    // A month without a day is no more useful for matching than the year alone.
    if (iso[3] === undefined) {
      if (year < MIN_YEAR || year > MAX_YEAR) throw new IdentityInputError("dob_year_range");
      if (iso[2] !== undefined && !(toInt(iso[2]) >= 1 && toInt(iso[2]) <= 12)) {
        throw new IdentityInputError("dob_month_range");
      }
      return { year, full: null };
    }
    [month, day] = [toInt(iso[2]), toInt(iso[3])];
  } else {
    throw new IdentityInputError("dob_format");
  }
  if (year < MIN_YEAR || year > MAX_YEAR) throw new IdentityInputError("dob_year_range");
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    throw new IdentityInputError("dob_not_date");
  }
  return { year, full: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}` };
}
