/** The audit log (operators only): newest first, page by page, filtered by sharing (action,
actor, target, time range); sharing's verification of the hash chain; the signed checkpoint
now, to download and keep. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Text } from "../common.tsx";
import { Heading } from "../heading.tsx";
import {
  type AuditEntry,
  type AuditFilter,
  auditQuery,
  checkpointFileName,
  NO_FILTER,
  type SignedCheckpoint,
} from "./audit-model.ts";

const PER_PAGE = 50;

interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string | null;
}

interface Verification {
  ok: boolean;
  checked: number;
  head: string;
  broken_seq: number | null;
  detail: string;
}

export function AuditLog() {
  const [checkpoint, setCheckpoint] = useState<SignedCheckpoint | null>(null);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  // What is typed, and what the list shows (applied when the form is sent).
  const [typed, setTyped] = useState<AuditFilter>(NO_FILTER);
  const [applied, setApplied] = useState<AuditFilter>(NO_FILTER);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const signCheckpoint = () =>
    call<SignedCheckpoint>("sharing", "/v1/audit/checkpoint").then(setCheckpoint, setError);

  /** The page `cursor` names (null: the newest), appended to what is shown or replacing it. */
  const load = async (filter: AuditFilter, cursor: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await call<AuditPage>(
        "sharing",
        `/v1/admin/audit?${auditQuery(filter, cursor, PER_PAGE)}`,
      );
      setEntries((shown) => (cursor === null ? page.entries : [...(shown ?? []), ...page.entries]));
      setNext(page.next_cursor);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void signCheckpoint();
    void load(NO_FILTER, null);
  }, []);

  const apply = (filter: AuditFilter) => {
    setTyped(filter);
    setApplied(filter);
    void load(filter, null);
  };
  const set = (key: keyof AuditFilter) => (e: Event) =>
    setTyped({ ...typed, [key]: (e.target as HTMLInputElement).value });
  const filtered = Object.values(applied).some((v) => v.trim() !== "");

  return (
    <section class="admin">
      <Heading>{t("audit.title")}</Heading>
      <p class="muted">{t("audit.hint")}</p>
      <ErrorNote error={error} />
      <Verify />
      {checkpoint && (
        <Checkpoint signed={checkpoint} onRefresh={() => void signCheckpoint()} busy={busy} />
      )}
      <h2>{t("audit.entries")}</h2>
      <form
        class="stack filters"
        role="search"
        aria-label={t("audit.filter")}
        onSubmit={(e) => {
          e.preventDefault();
          apply(typed);
        }}
      >
        <label>
          {t("audit.filter_action")}
          <input name="action" value={typed.action} onInput={set("action")} list="audit-actions" />
        </label>
        <datalist id="audit-actions">
          {[...new Set((entries ?? []).map((e) => e.action))].sort().map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          {t("audit.filter_actor")}
          <input name="actor" value={typed.actor} onInput={set("actor")} />
        </label>
        <label>
          {t("audit.filter_target")}
          <input name="target" value={typed.target} onInput={set("target")} />
        </label>
        <label>
          {t("audit.filter_from")}
          <input name="from" type="datetime-local" value={typed.from} onInput={set("from")} />
        </label>
        <label>
          {t("audit.filter_to")}
          <input name="to" type="datetime-local" value={typed.to} onInput={set("to")} />
        </label>
        <p class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {t("audit.filter_apply")}
          </button>{" "}
          <button type="button" onClick={() => apply(NO_FILTER)} disabled={busy}>
            {t("audit.filter_clear")}
          </button>
        </p>
      </form>
      {entries === null && !error && <p class="muted">{t("common.loading")}</p>}
      {entries !== null && (
        <p class="muted small" role="status">
          {filtered
            ? t("audit.showing_filtered", { shown: entries.length })
            : t("audit.showing", { shown: entries.length })}
        </p>
      )}
      <ul class="cards audit">
        {(entries ?? []).map((e) => (
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
      {entries !== null && entries.length === 0 && !busy && (
        <p class="muted">{t("audit.none_match")}</p>
      )}
      {next !== null && (
        <button type="button" onClick={() => void load(applied, next)} disabled={busy}>
          {busy ? t("common.working") : t("audit.older")}
        </button>
      )}
    </section>
  );
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
