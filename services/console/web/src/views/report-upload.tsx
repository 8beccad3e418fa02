/** Many reports from one CSV file: parsed and checked by the form's specs in this browser,
names tokenised in a worker, each row posted to intake as the form posts one report. */

import { useState } from "preact/hooks";
import { ApiError, call, newIdempotencyKey } from "../api.ts";
import { usePoll } from "../hooks.ts";
import { UploadTokeniser } from "../identity/worker-client.ts";
import { t } from "../i18n/index.ts";
import { type Receipt, reportBody } from "../report.ts";
import {
  fileDigest,
  REPORT_COLUMNS,
  REPORT_REQUIRED,
  type ReportRow,
  reportRow,
} from "../uploads/report-rows.ts";
import { withRetry } from "../uploads/retry.ts";
import { describe, Text } from "./common.tsx";
import { type Chosen, CsvPicker, Detected, Progress, useStopper } from "./upload-common.tsx";

// Rows tokenised per round trip to the worker and to sharing (about ten keys per name).
const CHUNK = 50;
const RECEIPTS_MS = 2500;

type Outcome =
  | { kind: "accepted"; id: string; duplicate: boolean }
  | { kind: "refused"; fields: { path: string; reason: string }[]; message: string }
  | { kind: "identity"; code: string }
  | { kind: "network" };

const field = (path: string) => {
  const label = t(`field.${path}`);
  return label === `field.${path}` ? path : label;
};

/** Post one row; what intake answered, by field (its reasons name no value of the row). */
async function submit(row: ReportRow, tokens: Parameters<typeof reportBody>[1]): Promise<Outcome> {
  try {
    const body = reportBody(row.draft, tokens);
    const idempotencyKey = newIdempotencyKey();
    const answer = await withRetry(() =>
      call<{ report_id: string; status: string }>("intake", "/v1/reports", {
        method: "POST",
        body,
        idempotencyKey,
      }),
    );
    return { kind: "accepted", id: answer.report_id, duplicate: answer.status === "duplicate" };
  } catch (failure) {
    if (failure instanceof TypeError) return { kind: "network" };
    if (failure instanceof ApiError) {
      return { kind: "refused", fields: failure.fields, message: describe(failure) };
    }
    throw failure;
  }
}

function RowResult(props: { row: ReportRow; outcome?: Outcome; receipt?: Receipt }) {
  const { row, outcome, receipt } = props;
  if (row.problems.length) {
    return (
      <li class="row-bad" data-line={row.line}>
        <strong>{t("upload.line", { line: row.line })}</strong>{" "}
        {row.problems.map((p) => `${field(p.path)}: ${t(`upload.local.${p.reason}`)}`).join("; ")}
      </li>
    );
  }
  if (!outcome) return null;
  if (outcome.kind === "accepted") {
    return (
      <li class="row-ok" data-line={row.line} data-report-id={outcome.id}>
        <strong>{t("upload.line", { line: row.line })}</strong>{" "}
        {t(outcome.duplicate ? "upload.reports.duplicate" : "upload.reports.accepted")}{" "}
        <code class="report-id">{outcome.id}</code> · {t("report.receipt")}{" "}
        <span class="receipt-status" data-status={receipt?.status ?? ""}>
          {receipt ? t(`receipt.${receipt.status}`) : t("common.loading")}
        </span>
      </li>
    );
  }
  return (
    <li class="row-refused" data-line={row.line}>
      <strong>{t("upload.line", { line: row.line })}</strong>{" "}
      {outcome.kind === "identity" && t(`identity.${outcome.code}`)}
      {outcome.kind === "network" && t("upload.network")}
      {outcome.kind === "refused" && (
        <>
          {t("upload.reports.refused")} {outcome.fields.length === 0 && outcome.message}
          {outcome.fields.map((f) => (
            <span key={f.path} data-path={f.path}>
              {" "}
              <Text value={`${f.path}: ${f.reason}`} />
            </span>
          ))}
        </>
      )}
    </li>
  );
}

const idOf = (o: Outcome | undefined) => (o?.kind === "accepted" ? o.id : "");

export function ReportUpload() {
  const [chosen, setChosen] = useState<{ rows: ReportRow[]; file: Chosen } | null>(null);
  const [results, setResults] = useState<Map<number, Outcome>>(new Map());
  const [receipts, setReceipts] = useState<Map<string, Receipt>>(new Map());
  const [progress, setProgress] = useState({ done: 0, total: 0 });
  const [running, setRunning] = useState(false);
  const stopper = useStopper();
  const [error, setError] = useState<unknown>(null);

  const choose = async (file: Chosen | null) => {
    setResults(new Map());
    setProgress({ done: 0, total: 0 });
    stopper.reset();
    if (!file) return setChosen(null);
    const digest = await fileDigest(file.bytes);
    const rows = file.parsed.rows.map((r) => reportRow(r, digest, file.parsed.unknown));
    setChosen({ rows, file });
  };

  // One receipts page (the partner's latest 200) covers a run's reports; polled while one of
  // them is not stored yet (usePoll reads the latest state: no restart on every row).
  usePoll(async (signal) => {
    const waiting = [...results.values()].some(
      (o) => o.kind === "accepted" && receipts.get(o.id)?.status !== "stored",
    );
    if (!waiting) return;
    const page = await call<Receipt[]>("intake", "/v1/reports?limit=200", { signal });
    setReceipts(new Map(page.map((r) => [r.report_id, r])));
  }, RECEIPTS_MS, []);

  const rows = chosen?.rows ?? [];
  // Sent again: rows not sent yet and rows whose answer was lost; a refusal would only repeat.
  const ready = rows.filter((r) => {
    const kind = results.get(r.line)?.kind;
    return !r.problems.length && (kind === undefined || kind === "network");
  });
  const blocked = (chosen?.file.parsed.missing.length ?? 0) > 0;

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
        // A follow-up row names no person (it is about the original's): nothing to tokenise.
        const named = chunk.filter((r) => r.person !== null);
        const tokenised = named.length
          ? await tokeniser.tokenise(
              (path, opts) => call("sharing", path, opts),
              named.map((r) => r.person as [string, string | null]),
            )
          : [];
        const made = new Map(named.map((r, k) => [r.line, tokenised[k]]));
        for (let j = 0; j < chunk.length && !stopper.stopped(); j++) {
          const mine = made.get(chunk[j].line);
          const outcome: Outcome = !mine
            ? await submit(chunk[j], null)
            : "error" in mine
              ? { kind: "identity", code: mine.error }
              : await submit(chunk[j], mine.tokens);
          setResults((prev) => new Map(prev).set(chunk[j].line, outcome));
          setProgress({ done: ++done, total: ready.length });
        }
      }
    } catch (failure) {
      setError(failure);
    } finally {
      tokeniser.close();
      setRunning(false);
    }
  };

  const outcomes = [...results.values()];
  const ok = outcomes.filter((o) => o.kind === "accepted").length;
  const localBad = rows.filter((r) => r.problems.length).length;
  return (
    <section class="report-upload">
      <h1 tabIndex={-1}>{t("upload.reports.title")}</h1>
      <p>
        <a href="/reports/new">{t("upload.reports.one")}</a>
      </p>
      <p class="muted">{t("upload.reports.intro")}</p>
      <CsvPicker
        id="reports-file"
        known={REPORT_COLUMNS}
        required={REPORT_REQUIRED}
        disabled={running}
        onChosen={(f) => void choose(f)}
      />
      {chosen && (
        <>
          <Detected parsed={chosen.file.parsed} bad={localBad} />
          <p class="muted">{t("upload.reports.retry_note")}</p>
          <button type="button" disabled={running || blocked || !ready.length} onClick={run}>
            {t("upload.reports.submit", { count: ready.length })}
          </button>
        </>
      )}
      {(running || progress.total > 0) && (
        <Progress
          id="reports-progress"
          {...progress}
          running={running}
          cancelled={stopper.cancelled}
          onCancel={stopper.cancel}
        />
      )}
      {!running && progress.total > 0 && !stopper.cancelled && (
        <p class="ok upload-finished">
          {t("upload.finished", { ok, refused: outcomes.length - ok + localBad })}
        </p>
      )}
      {error !== null && (
        <p class="error" role="alert">
          {describe(error)}
        </p>
      )}
      {chosen && (
        <>
          <h2>{t("upload.results")}</h2>
          <ul class="cards upload-results">
            {rows.map((row) => (
              <RowResult
                key={row.line}
                row={row}
                outcome={results.get(row.line)}
                receipt={receipts.get(idOf(results.get(row.line)))}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
