/** The canonicaliser's rules: the very file the Python package reads (one source of truth). */

import data from "../../../../../libs/common/identity/rules.json" with { type: "json" };

export const DATA = data;

export type ErrorCode = Exclude<keyof typeof data.errors, "_about">;

/** A bad name or date of birth: `code` keys the message, as the Python InvalidInput's text. */
export class IdentityInputError extends Error {
  readonly code: ErrorCode;
  readonly field: "name" | "dob";

  constructor(code: ErrorCode) {
    super(data.errors[code]);
    this.code = code;
    this.field = code.startsWith("dob_") ? "dob" : "name";
  }
}

/** Python's string order (by code point), not JavaScript's (by UTF-16 unit) above the BMP. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** Length in code points, as Python's len() counts. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
