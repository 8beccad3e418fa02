/** Charge articles as the codes write them, reduced to the one stored form: the rules of
`libs/common/reports/charges.py` (both are held to `tests/vectors/charge-articles.json`). */

const MAX_INPUT = 64;
const SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const PART = String.raw`(?:ч|час(?:ть|ти|тью)|ch|part|pt)\.?`;
const ARTICLE = String.raw`(?:ст|стат(?:ья|ьи|ье|ьёй|ьей)|арт|артыкул|st|art|article)\.?`;
const NUMBER = String.raw`[0-9]{1,4}(?:[.-][0-9]{1,3})?`;
const PART_NO = "[0-9a-z]{1,3}";
const CODE = String.raw`(?:\s*,?\s*(?:ук|uk|cc)(?:\s*(?:рф|рб|rf|rb|ru|by))?)?`;
const FORM = new RegExp(
  String.raw`^(?:${PART}\s*(?<before>${PART_NO})\s*,?\s*)?(?:${ARTICLE}\s*)?` +
    String.raw`(?<article>${NUMBER})(?:\s*\(\s*(?<paren>${PART_NO})\s*\))?` +
    String.raw`(?:\s*,?\s*${PART}\s*(?<after>${PART_NO}))?${CODE}$`,
  "u",
);

/** The stored form of an article as written (`ч. 2 ст. 280.3` → `280.3(2)`), or null when it
is not one (intake then refuses it with the same words). */
export function canonicalArticle(written: string): string | null {
  if (written.length > MAX_INPUT) return null;
  let text = written.replace(
    /[⁰¹²³⁴⁵⁶⁷⁸⁹]+/gu,
    (run) => "-" + [...run].map((c) => String(SUPERSCRIPTS.indexOf(c))).join(""),
  );
  text = text.normalize("NFKC").toLowerCase().replaceAll("\u00a0", " ");
  text = text
    .replace(/[\u2010\u2011\u2012\u2013\u2014\u2212]/gu, "-")
    .replace(/(?<=[0-9]),(?=[0-9])/gu, ".")
    .trim();
  const match = FORM.exec(text);
  if (!match?.groups) return null;
  const parts = [match.groups.before, match.groups.paren, match.groups.after].filter(Boolean);
  if (parts.length > 1) return null;
  return match.groups.article + (parts.length ? `(${parts[0]})` : "");
}
