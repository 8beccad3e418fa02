/** Typo tolerance, as libs/common/identity/fuzzy.py: edit distance and partial signatures. */

import { DATA } from "./rules.ts";

const { head_chars: HEAD_CHARS, tail_chars: TAIL_CHARS, feminine_ending: FEMININE } = DATA.fuzzy;

/** Optimal-string-alignment distance: insertions, deletions, substitutions, transpositions. */
export function editDistance(left: string, right: string): number {
  const a = Array.from(left);
  const b = Array.from(right);
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i, ...new Array<number>(b.length).fill(0)];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] !== b[j - 1] ? 1 : 0;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], previous2[j - 2] + 1);
      }
    }
    previous2 = previous;
    previous = current;
  }
  return previous[previous.length - 1];
}

/** First letters, plus (if asked) whether the word ends like a feminine given name. */
export function headSignature(word: string, withSex = true): string {
  const mark = withSex ? (word.endsWith(FEMININE) ? "+" : "-") : "";
  return Array.from(word).slice(0, HEAD_CHARS).join("") + mark;
}

/** First letter and last letters: survives a typo anywhere between them. */
export function tailSignature(word: string): string {
  const chars = Array.from(word);
  return chars.slice(0, 1).join("") + "…" + chars.slice(-TAIL_CHARS).join("");
}
