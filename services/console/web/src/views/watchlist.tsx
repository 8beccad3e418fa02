/** The lawyer's watchlist: the labels they chose (names never reach the server), and removal. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../api.ts";
import { t, when } from "../i18n/index.ts";
import type { Entry, EntryPage } from "../types.ts";
import { ErrorNote, Text } from "./common.tsx";
import { AddEntry } from "./watchlist-add.tsx";
import { WatchlistUpload } from "./watchlist-upload.tsx";

const PAGE = 100;

export function Watchlist() {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  /** The first page (cursor null), or the one `cursor` names appended to what is shown. */
  const load = async (cursor: string | null) => {
    try {
      const query = `limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await call<EntryPage>("alerts", `/v1/watchlist/entries?${query}`);
      setEntries((prev) => [...(cursor && prev ? prev : []), ...page.entries]);
      setNext(page.next_cursor);
    } catch (failure) {
      setError(failure);
    }
  };

  useEffect(() => {
    void load(null);
  }, []);

  const remove = async (entry: Entry) => {
    if (!confirm(t("watchlist.remove_confirm", { label: entry.label }))) return;
    try {
      await call<void>("alerts", `/v1/watchlist/entries/${encodeURIComponent(entry.id)}`, {
        method: "DELETE",
      });
      setEntries((prev) => (prev ?? []).filter((e) => e.id !== entry.id));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="watchlist">
      <h2>{t("watchlist.title")}</h2>
      <AddEntry
        onAdded={(entry) =>
          setEntries((prev) => [entry, ...(prev ?? []).filter((e) => e.id !== entry.id)])
        }
      />
      <WatchlistUpload
        onAdded={(added) => {
          const ids = new Set(added.map((e) => e.id));
          setEntries((prev) => [...added, ...(prev ?? []).filter((e) => !ids.has(e.id))]);
        }}
      />
      <ErrorNote error={error} />
      {entries?.length === 0 && <p class="muted">{t("watchlist.empty")}</p>}
      <ul class="cards">
        {(entries ?? []).map((e) => (
          <li key={e.id} data-entry-id={e.id}>
            <strong>
              <Text value={e.label} />
            </strong>
            <span class="muted"> · {when(e.created_at)}</span>
            <div class="actions">
              <button type="button" onClick={() => remove(e)}>
                {t("common.remove")}
              </button>
            </div>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" onClick={() => load(next)}>
          {t("watchlist.more")}
        </button>
      )}
    </section>
  );
}
