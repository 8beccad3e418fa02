/** CSV files as spreadsheets save them, read in the browser: the encoding and the delimiter
are detected (and shown), the rows parsed by Papa Parse (quoted fields, newlines inside them). */

import Papa from "papaparse";

export type Encoding = "utf-8" | "utf-16le" | "utf-16be" | "windows-1251";
export type Delimiter = "," | ";" | "\t" | "|";
const DELIMITERS: Delimiter[] = [",", ";", "\t", "|"];
/** The most rows one upload takes (the CLI takes more; a browser tab is not a batch job). */
export const MAX_ROWS = 5000;

/** The text of a file's bytes and the encoding it was in. */
export function decode(bytes: Uint8Array): { text: string; encoding: Encoding } {
  const bom = (...b: number[]) => b.every((v, i) => bytes[i] === v);
  if (bom(0xef, 0xbb, 0xbf)) return { text: utf8(bytes.subarray(3)), encoding: "utf-8" };
  if (bom(0xff, 0xfe)) return { text: utf16(bytes.subarray(2), "utf-16le"), encoding: "utf-16le" };
  if (bom(0xfe, 0xff)) return { text: utf16(bytes.subarray(2), "utf-16be"), encoding: "utf-16be" };
  // UTF-16 without a mark: ASCII text has a zero in every other byte.
  const sample = bytes.subarray(0, 512);
  const zeros = (parity: number) => sample.filter((b, i) => i % 2 === parity && b === 0).length;
  if (sample.length >= 4 && zeros(1) > sample.length / 4) {
    return { text: utf16(bytes, "utf-16le"), encoding: "utf-16le" };
  }
  if (sample.length >= 4 && zeros(0) > sample.length / 4) {
    return { text: utf16(bytes, "utf-16be"), encoding: "utf-16be" };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8" };
  } catch {
    // Not UTF-8: what a Russian Excel saves as "CSV (разделители — запятые)" is Windows-1251.
    return { text: new TextDecoder("windows-1251").decode(bytes), encoding: "windows-1251" };
  }
}

const utf8 = (b: Uint8Array) => new TextDecoder("utf-8").decode(b);
const utf16 = (b: Uint8Array, e: string) => new TextDecoder(e).decode(b);

/** The delimiter of the header line: the one that splits it into the most known columns
(a Russian or German Excel writes `;`, since `,` is their decimal separator). */
export function detectDelimiter(text: string, known: readonly string[]): Delimiter {
  const header = text.split(/\r?\n/, 1)[0] ?? "";
  let best: Delimiter = ",";
  let score = -1;
  for (const d of DELIMITERS) {
    const cells = header.split(d).map(normalise);
    const hits = cells.filter((c) => known.includes(c)).length * 1000 + cells.length;
    if (hits > score) [best, score] = [d, hits];
  }
  return best;
}

const normalise = (cell: string) => cell.trim().replace(/^"|"$/g, "").trim().toLowerCase();

/** One data row: its line in the file (as a spreadsheet numbers it) and its cells by column. */
export interface CsvRow {
  line: number;
  cells: Record<string, string>;
}

export interface ParsedCsv {
  encoding: Encoding;
  delimiter: Delimiter;
  columns: string[];
  unknown: string[];
  missing: string[];
  rows: CsvRow[];
}

/** Problems with the file as a whole (not with one row). */
export class CsvFileError extends Error {
  readonly code: "empty" | "too_many_rows" | "no_header";

  constructor(code: CsvFileError["code"]) {
    super(code);
    this.code = code;
  }
}

/** Parse a file's bytes into rows keyed by the header's (lower-cased) column names. */
export function parseCsv(
  bytes: Uint8Array,
  known: readonly string[],
  required: readonly string[],
): ParsedCsv {
  const { text, encoding } = decode(bytes);
  if (!text.trim()) throw new CsvFileError("empty");
  const delimiter = detectDelimiter(text, known);
  const parsed = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: "greedy" });
  const [head, ...data] = parsed.data;
  const columns = (head ?? []).map(normalise);
  if (!columns.some((c) => known.includes(c))) throw new CsvFileError("no_header");
  if (data.length > MAX_ROWS) throw new CsvFileError("too_many_rows");
  // Papa reports no line numbers; count the newlines each record spanned (quoted newlines).
  const starts = recordLines(text, delimiter);
  const rows = data.map((cells, i) => ({
    line: starts[i + 1] ?? i + 2,
    // A newline in a cell is "\n", as a textarea gives it (intake refuses a bare "\r").
    cells: Object.fromEntries(
      columns.map((c, j) => [c, (cells[j] ?? "").replace(/\r\n?/g, "\n").trim()]),
    ),
  }));
  return {
    encoding,
    delimiter,
    columns,
    unknown: columns.filter((c) => c && !known.includes(c)),
    missing: required.filter((c) => !columns.includes(c)),
    rows,
  };
}

/** The line each non-empty record starts on (1-based), quotes respected. */
function recordLines(text: string, delimiter: Delimiter): number[] {
  const out: number[] = [];
  let line = 1;
  let quoted = false;
  let start = 1;
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    if (c === "\n" && !quoted) {
      if (!blank) out.push(start);
      line++;
      start = line;
      blank = true;
      continue;
    }
    if (c === "\n") line++;
    if (c !== "\r" && c !== delimiter && c.trim()) blank = false;
  }
  if (!blank) out.push(start);
  return out;
}
