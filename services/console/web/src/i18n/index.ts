/** Message catalogues (English, Russian) and the language: from the browser, switchable. */

import en from "./en.json" with { type: "json" };
import ru from "./ru.json" with { type: "json" };

export type Language = "en" | "ru";
type Plural = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
type Catalogue = Record<string, string | Plural>;

export const CATALOGUES: Record<Language, Catalogue> = { en, ru };
export const LANGUAGES: Language[] = ["en", "ru"];
const STORED = "lifeline.language";

let current: Language = "en";
let plurals = new Intl.PluralRules("en");

/** The first of the browser's languages that the console speaks, else English. */
export function pickLanguage(preferred: readonly string[], stored: string | null): Language {
  if (stored === "en" || stored === "ru") return stored;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "en" || base === "ru") return base;
  }
  return "en";
}

/** The language the page starts in. */
export function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORED);
  } catch {
    // Storage may be disabled; the browser's languages still decide.
  }
  return pickLanguage(navigator.languages ?? [navigator.language], stored);
}

/** Switch the language of every message from now on (and remember the choice). */
export function setLanguage(lang: Language, remember = false): void {
  current = lang;
  plurals = new Intl.PluralRules(lang);
  document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(STORED, lang);
    } catch {
      // Not remembered: the choice holds until the page is closed.
    }
  }
}

export function language(): Language {
  return current;
}

/** Put `{name}` values into a message. */
export function format(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

/** The message `key` in the current language (English, then the key itself, if missing). */
export function t(key: string, values: Record<string, string | number> = {}): string {
  const entry = CATALOGUES[current][key] ?? CATALOGUES.en[key];
  if (entry === undefined) return key;
  if (typeof entry === "string") return format(entry, values);
  const count = Number(values.count ?? 0);
  return format(entry[plurals.select(count)] ?? entry.other, values);
}

/** The message for a server error code (`error.<code>`), or the generic one. */
export function errorMessage(code: string): string {
  const key = `error.${code}`;
  return key in CATALOGUES.en ? t(key) : t("error.unknown", { code });
}

/** A date and time in the current language, in the browser's time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(date);
}
