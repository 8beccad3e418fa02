/** Many clients from one CSV file (the columns of `lifeline watchlist import`): names are
tokenised in a worker in this browser; only the labels, rules and tokens are sent. */

import { useState } from "preact/hooks";
import { ApiError, call, newIdempotencyKey } from "../api.ts";
import { UploadTokeniser } from "../identity/worker-client.ts";
import { t } from "../i18n/index.ts";
import type { Entry } from "../types.ts";
import {
  WATCHLIST_COLUMNS,
  WATCHLIST_REQUIRED,
  type WatchRow,
  watchRows,
} from "../uploads/watchlist-rows.ts";
import { withRetry } from "../uploads/retry.ts";
import { describe, Text } from "./common.tsx";
import { type Chosen, CsvPicker, Detected, Progress, useStopper } from "./upload-common.tsx";

const CHUNK = 50;

type Outcome =
  | { kind: "created" | "unchanged" | "replaced"; entry: Entry }
  | { kind: "conflict" }
  | { kind: "refused"; message: string }
  | { kind: "identity"; code: string };

async function add(row: WatchRow, tokens: unknown[]): Promise<Outcome> {
  const body = { label: row.label, tokens, ...(row.rule ? { rule: row.rule } : {}) };
  const idempotencyKey = newIdempotencyKey();
  try {
    const entry = await withRetry(() =>
      call<Entry & { status: "created" | "unchanged" | "replaced" }>(
        "alerts",
        "/v1/watchlist/entries",
        { method: "POST", body, idempotencyKey },
      ),
    );
    return { kind: entry.status, entry };
  } catch (failure) {
    // 409: the label is on the watchlist with other tokens or another rule (a duplicate).
    if (failure instanceof ApiError && failure.status === 409) return { kind: "conflict" };
    if (failure instanceof ApiError || failure instanceof TypeError) {
      return { kind: "refused", message: describe(failure) };
    }
    throw failure;
  }
}

function RowResult({ row, outcome }: { row: WatchRow; outcome?: Outcome }) {
  const head = (
    <>
      <strong>{t("upload.line", { line: row.line })}</strong>
      {row.label && (
        <>
          {" "}
          (<Text value={row.label} />)
        </>
      )}{" "}
    </>
  );
  if (row.problem) {
    return (
      <li class="row-bad" data-line={row.line}>
        {head}
        {t("upload.watchlist.refused")} {t(`upload.watchlist.${row.problem}`)}
      </li>
    );
  }
  if (!outcome) return null;
  const cls = {
    created: "row-ok",
    replaced: "row-ok",
    unchanged: "row-duplicate",
    conflict: "row-duplicate",
    identity: "row-refused",
    refused: "row-refused",
  }[outcome.kind];
  return (
    <li class={cls} data-line={row.line} data-outcome={outcome.kind}>
      {head}
      {outcome.kind === "identity" &&
        `${t("upload.watchlist.refused")} ${t(`identity.${outcome.code}`)}`}
      {outcome.kind === "refused" && `${t("upload.watchlist.refused")} ${outcome.message}`}
      {outcome.kind !== "identity" &&
        outcome.kind !== "refused" &&
        t(`upload.watchlist.${outcome.kind}`)}
    </li>
  );
}

export function WatchlistUpload({ onAdded }: { onAdded: (entries: Entry[]) => void }) {
  const [rows, setRows] = useState<WatchRow[] | null>(null);
  const [file, setFile] = useState<Chosen | null>(null);
  const [results, setResults] = useState<Map<number, Outcome>>(new Map());
  const [progress, setProgress] = useState({ done: 0, total: 0 });
  const [running, setRunning] = useState(false);
  const stopper = useStopper();
  const [error, setError] = useState<unknown>(null);

  const choose = (chosen: Chosen | null) => {
    setFile(chosen);
    setRows(chosen ? watchRows(chosen.parsed.rows) : null);
    setResults(new Map());
    setProgress({ done: 0, total: 0 });
    stopper.reset();
  };

  const ready = (rows ?? []).filter((r) => !r.problem && !results.has(r.line));
  const run = async () => {
    stopper.reset();
    setRunning(true);
    setError(null);
    setProgress({ done: 0, total: ready.length });
    const tokeniser = new UploadTokeniser();
    let done = 0;
    try {
      for (let i = 0; i < ready.length && !stopper.stopped(); i += CHUNK) {
        const chunk = ready.slice(i, i + CHUNK);
        const tokenised = await tokeniser.tokenise(
          (path, opts) => call("sharing", path, opts),
          chunk.map((r) => r.person),
        );
        const added: Entry[] = [];
        for (let j = 0; j < chunk.length && !stopper.stopped(); j++) {
          const made = tokenised[j];
          const outcome: Outcome =
            "error" in made
              ? { kind: "identity", code: made.error }
              : await add(chunk[j], made.tokens);
          if ("entry" in outcome) added.push(outcome.entry);
          setResults((prev) => new Map(prev).set(chunk[j].line, outcome));
          setProgress({ done: ++done, total: ready.length });
        }
        onAdded(added);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      tokeniser.close();
      setRunning(false);
    }
  };

  const outcomes = [...results.values()];
  const count = (...kinds: string[]) => outcomes.filter((o) => kinds.includes(o.kind)).length;
  const localBad = (rows ?? []).filter((r) => r.problem).length;
  return (
    <details class="add watchlist-upload">
      <summary>{t("upload.watchlist.title")}</summary>
      <p class="muted">{t("upload.watchlist.intro")}</p>
      <CsvPicker
        id="watchlist-file"
        known={WATCHLIST_COLUMNS}
        required={WATCHLIST_REQUIRED}
        disabled={running}
        onChosen={choose}
      />
      {file && rows && (
        <>
          <Detected parsed={file.parsed} bad={localBad} />
          <button
            type="button"
            disabled={running || file.parsed.missing.length > 0 || !ready.length}
            onClick={run}
          >
            {t("upload.watchlist.submit", { count: ready.length })}
          </button>
        </>
      )}
      {(running || progress.total > 0) && (
        <Progress
          id="watchlist-progress"
          {...progress}
          running={running}
          cancelled={stopper.cancelled}
          onCancel={stopper.cancel}
        />
      )}
      {!running && progress.total > 0 && !stopper.cancelled && (
        <p class="ok upload-finished">
          {t("upload.watchlist.finished", {
            added: count("created", "replaced"),
            duplicates: count("unchanged", "conflict"),
            refused: count("identity", "refused") + localBad,
          })}
        </p>
      )}
      {error !== null && (
        <p class="error" role="alert">
          {describe(error)}
        </p>
      )}
      {rows && (
        <ul class="cards upload-results">
          {rows.map((row) => (
            <RowResult key={row.line} row={row} outcome={results.get(row.line)} />
          ))}
        </ul>
      )}
    </details>
  );
}
