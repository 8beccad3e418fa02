/** Rows of a watchlist CSV, the columns of `lifeline watchlist import`
(label,name,dob[,incident_types,legal_bases,countries]), checked as the CLI checks them. */

import { INCIDENT_TYPES, LEGAL_BASES } from "../report.ts";
import type { CsvRow } from "./csv.ts";

export const WATCHLIST_COLUMNS = [
  "label",
  "name",
  "dob",
  "incident_types",
  "legal_bases",
  "countries",
] as const;
export const WATCHLIST_REQUIRED = ["label", "name"];

export type WatchProblem = "label_empty" | "label_repeated" | "name_empty" | "rule" | "too_long";

export interface WatchRow {
  line: number;
  label: string;
  person: [name: string, dob: string | null];
  rule: Record<string, string[]> | null;
  problem: WatchProblem | null;
}

const list = (cell: string | undefined) =>
  (cell ?? "")
    .split(";")
    .map((v) => v.trim())
    .filter(Boolean);

/** The alert rule of a row (the CLI's `rule_of`), or null for the default rule. */
export function ruleOf(cells: Record<string, string>): Record<string, string[]> | null {
  const [incident, bases, countries] = [
    list(cells.incident_types),
    list(cells.legal_bases),
    list(cells.countries).map((c) => c.toUpperCase()),
  ];
  if (!incident.length && !bases.length && !countries.length) return null;
  return {
    ...(incident.length ? { incident_types: incident } : {}),
    legal_bases: bases,
    countries,
  };
}

function ruleProblem(rule: Record<string, string[]> | null): boolean {
  if (!rule) return false;
  const incident = rule.incident_types ?? [];
  return (
    incident.some((v) => !(INCIDENT_TYPES as readonly string[]).includes(v)) ||
    rule.legal_bases.some((v) => !(LEGAL_BASES as readonly string[]).includes(v)) ||
    rule.countries.some((v) => !/^[A-Z]{2}$/.test(v))
  );
}

/** Every row of the file, each with the first problem found in it (a label used twice in one
file refuses the second row, as the CLI does). */
export function watchRows(rows: CsvRow[]): WatchRow[] {
  const seen = new Set<string>();
  return rows.map(({ line, cells }) => {
    const label = (cells.label ?? "").trim();
    const name = cells.name ?? "";
    const rule = ruleOf(cells);
    let problem: WatchProblem | null = null;
    if (!label) problem = "label_empty";
    else if (label.length > 200) problem = "too_long";
    else if (seen.has(label)) problem = "label_repeated";
    else if (!name.trim()) problem = "name_empty";
    else if (ruleProblem(rule)) problem = "rule";
    if (label) seen.add(label);
    return { line, label, person: [name, (cells.dob ?? "").trim() || null], rule, problem };
  });
}
