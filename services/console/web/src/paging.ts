/** Paged lists (docs/api.md, "Pagination"): the next page is the `Link: rel="next"` target. */

/** The next page's path from a `Link` header (RFC 8288), resolved against the path that was
 * asked (the target is relative: only a query); null when the page was the last. */
export function nextPath(link: string | null, asked: string): string | null {
  if (!link) return null;
  for (const match of link.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? "");
    const names = (rels?.[1] ?? rels?.[2] ?? "").toLowerCase().split(/\s+/);
    if (!names.includes("next")) continue;
    const url = new URL(match[1] ?? "", new URL(asked, "https://console.invalid"));
    return url.pathname + url.search;
  }
  return null;
}

/** A page of a list and the path of the next one (null: none). */
export interface Page<T> {
  body: T;
  next: string | null;
}
