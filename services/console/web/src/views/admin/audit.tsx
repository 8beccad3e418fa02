/** The audit log (operators only): newest first, page by page; a filter over what is loaded
(the API pages by sequence number and filters nothing); sharing's verification of the hash
chain; the signed checkpoint now, to download and keep. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Text } from "../common.tsx";
import { Heading } from "../heading.tsx";
import {
  type AuditEntry,
  type AuditFilter,
  checkpointFileName,
  keeps,
  NO_FILTER,
  pageWindow,
  type SignedCheckpoint,
} from "./audit-model.ts";

const PER_PAGE = 50;

interface Verification {
  ok: boolean;
  checked: number;
  head: string;
  broken_seq: number | null;
  detail: string;
}

export function AuditLog() {
  const [checkpoint, setCheckpoint] = useState<SignedCheckpoint | null>(null);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [pages, setPages] = useState(0);
  const [filter, setFilter] = useState<AuditFilter>(NO_FILTER);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  /** Start again from the newest entry: the checkpoint's size is the newest seq. */
  const reload = async () => {
    setBusy(true);
    setError(null);
    try {
      const signed = await call<SignedCheckpoint>("sharing", "/v1/audit/checkpoint");
      setCheckpoint(signed);
      setEntries(await page(signed.checkpoint.size, 0));
      setPages(1);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const older = async () => {
    if (!checkpoint) return;
    setBusy(true);
    try {
      const more = await page(checkpoint.checkpoint.size, pages);
      setEntries((loaded) => [...loaded, ...more]);
      setPages((n) => n + 1);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void reload();
  }, []);

  const size = checkpoint?.checkpoint.size ?? 0;
  const shown = entries.filter((e) => keeps(e, filter));
  const more = pageWindow(size, pages, PER_PAGE) !== null;
  const set = (key: keyof AuditFilter) => (e: Event) =>
    setFilter({ ...filter, [key]: (e.target as HTMLInputElement).value });

  return (
    <section class="admin">
      <Heading>{t("audit.title")}</Heading>
      <p class="muted">{t("audit.hint")}</p>
      <ErrorNote error={error} />
      <Verify />
      {checkpoint && <Checkpoint signed={checkpoint} onRefresh={reload} busy={busy} />}
      <h2>{t("audit.entries")}</h2>
      <form class="stack filters" onSubmit={(e) => e.preventDefault()} role="search">
        <label>
          {t("audit.filter_action")}
          <input name="action" value={filter.action} onInput={set("action")} list="audit-actions" />
        </label>
        <datalist id="audit-actions">
          {[...new Set(entries.map((e) => e.action))].sort().map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          {t("audit.filter_actor")}
          <input name="actor" value={filter.actor} onInput={set("actor")} />
        </label>
        <label>
          {t("audit.filter_from")}
          <input name="from" type="datetime-local" value={filter.from} onInput={set("from")} />
        </label>
        <label>
          {t("audit.filter_to")}
          <input name="to" type="datetime-local" value={filter.to} onInput={set("to")} />
        </label>
        <p class="muted small" role="status">
          {t("audit.showing", { shown: shown.length, loaded: entries.length, size })}
        </p>
        <button type="button" onClick={() => setFilter(NO_FILTER)}>
          {t("audit.filter_clear")}
        </button>
      </form>
      <ul class="cards audit">
        {shown.map((e) => (
          <li key={e.seq} data-audit-seq={e.seq} data-action={e.action}>
            <strong>
              <code>{e.action}</code>
            </strong>{" "}
            <span class="muted">
              #{e.seq} · {when(e.at)}
            </span>
            <div class="small">
              {t("audit.actor")}: <code>{e.actor}</code>
            </div>
            <div class="small">
              {t("audit.target")}: <code>{e.target}</code>
            </div>
            {e.details !== null && e.details !== undefined && (
              <details>
                <summary>{t("audit.details")}</summary>
                <pre class="code">
                  <Text value={JSON.stringify(e.details, null, 2)} />
                </pre>
              </details>
            )}
          </li>
        ))}
      </ul>
      {!busy && entries.length > 0 && shown.length === 0 && (
        <p class="muted">{t("audit.none_match")}</p>
      )}
      {more && (
        <button type="button" onClick={older} disabled={busy}>
          {busy ? t("common.working") : t("audit.older")}
        </button>
      )}
    </section>
  );
}

async function page(size: number, index: number): Promise<AuditEntry[]> {
  const window = pageWindow(size, index, PER_PAGE);
  if (!window) return [];
  const answer = await call<{ entries: AuditEntry[] }>(
    "sharing",
    `/v1/admin/audit?after=${window.after}&limit=${window.limit}`,
  );
  return answer.entries.reverse();
}

function Verify() {
  const [result, setResult] = useState<Verification | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const verify = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await call<Verification>("sharing", "/v1/admin/audit/verify"));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="stack">
      <h2>{t("audit.verify_title")}</h2>
      <p class="muted small">{t("audit.verify_hint")}</p>
      <button type="button" onClick={verify} disabled={busy}>
        {busy ? t("common.working") : t("audit.verify")}
      </button>
      <ErrorNote error={error} />
      {result?.ok && (
        <p role="status" data-verified="ok">
          {t("audit.verified", { checked: result.checked })}{" "}
          <code class="small">{result.head}</code>
        </p>
      )}
      {result && !result.ok && (
        <p class="error" role="alert" data-verified="broken">
          {t("audit.broken", { seq: result.broken_seq ?? "?" })} <Text value={result.detail} />
        </p>
      )}
    </div>
  );
}

function Checkpoint(props: { signed: SignedCheckpoint; busy: boolean; onRefresh: () => void }) {
  const { signed } = props;
  const [href, setHref] = useState<string | null>(null);

  useEffect(() => {
    const blob = new Blob([JSON.stringify(signed, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [signed]);

  return (
    <div class="stack">
      <h2>{t("audit.checkpoint_title")}</h2>
      <p class="muted small">{t("audit.checkpoint_hint")}</p>
      <dl>
        <div class="row">
          <dt>{t("audit.checkpoint_size")}</dt>
          <dd data-checkpoint-size>{signed.checkpoint.size}</dd>
        </div>
        <div class="row">
          <dt>{t("audit.checkpoint_time")}</dt>
          <dd>{when(signed.checkpoint.time)}</dd>
        </div>
        <div class="row">
          <dt>{t("audit.checkpoint_root")}</dt>
          <dd>
            <code>{signed.checkpoint.root_hash}</code>
          </dd>
        </div>
        <div class="row">
          <dt>{t("audit.checkpoint_key")}</dt>
          <dd>
            <code>{signed.key.fingerprint}</code>
          </dd>
        </div>
      </dl>
      <p>
        {href && (
          <a href={href} download={checkpointFileName(signed)} class="button">
            {t("audit.checkpoint_download")}
          </a>
        )}{" "}
        <button type="button" onClick={props.onRefresh} disabled={props.busy}>
          {t("audit.refresh")}
        </button>
      </p>
    </div>
  );
}
