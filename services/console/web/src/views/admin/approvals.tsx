/** Two-person approval: the queue (pending first, then history; polled, so a new request shows
by itself), one approval, and approving or denying another operator's request. */

import { useState } from "preact/hooks";
import { call, callAll, currentSession } from "../../api.ts";
import { usePoll } from "../../hooks.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Row, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { path } from "./model.ts";
import { type Approval, queueOrder, requestRows, targetHref } from "./security-model.ts";

const POLL_MS = 3000;
const STATUSES = ["pending", "running", "done", "failed", "denied", "expired", "cancelled"];

export function Approvals() {
  const [status, setStatus] = useState("");
  const [rows, setRows] = useState<Approval[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  usePoll(
    async (signal) => {
      try {
        const query = status ? `?status=${encodeURIComponent(status)}` : "";
        const listed = `/v1/admin/approvals${query}`;
        setRows(queueOrder(await callAll<Approval>("sharing", listed, { signal })));
        setError(null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [status, version],
  );

  const pending = (rows ?? []).filter((a) => a.status === "pending");
  const history = (rows ?? []).filter((a) => a.status !== "pending");
  const list = (items: Approval[]) => (
    <ul class="cards">
      {items.map((a) => (
        <li key={a.id} data-approval-id={a.id} data-status={a.status}>
          <ApprovalCard approval={a} linked onDecided={() => setVersion((v) => v + 1)} />
        </li>
      ))}
    </ul>
  );

  return (
    <section class="admin">
      <Heading>{t("approval.list")}</Heading>
      <p class="muted">{t("approval.list_hint")}</p>
      <label>
        {t("approval.filter")}
        <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">{t("approval.filter_all")}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {word("approval_status", s)}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={error} />
      {rows?.length === 0 && <p class="muted">{t("approval.none")}</p>}
      {pending.length > 0 && (
        <>
          <h2>{t("approval.pending")}</h2>
          {list(pending)}
        </>
      )}
      {history.length > 0 && (
        <>
          <h2>{t("approval.history")}</h2>
          {list(history)}
        </>
      )}
    </section>
  );
}

export function ApprovalView({ id }: { id: string }) {
  const [approval, setApproval] = useState<Approval | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  usePoll(
    async (signal) => {
      try {
        setApproval(await call<Approval>("sharing", `/v1/admin/approvals/${path(id)}`, { signal }));
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [id, version],
  );

  return (
    <section class="admin">
      <p>
        <a href="/admin/approvals">{t("approval.back")}</a>
      </p>
      <Heading>{approval ? word("approval_action", approval.action) : t("approval.one")}</Heading>
      <ErrorNote error={error} />
      {approval && (
        <div data-approval-id={approval.id} data-status={approval.status}>
          <ApprovalCard approval={approval} onDecided={() => setVersion((v) => v + 1)} />
        </div>
      )}
    </section>
  );
}

function ApprovalCard(props: { approval: Approval; linked?: boolean; onDecided: () => void }) {
  const a = props.approval;
  const own = currentSession()?.device.clientId === a.requested_by;
  const href = targetHref(a);
  return (
    <>
      {props.linked ? (
        <a href={`/admin/approvals/${path(a.id)}`}>
          <strong>{word("approval_action", a.action)}</strong>
        </a>
      ) : (
        <strong>{word("approval_action", a.action)}</strong>
      )}
      <span class="muted">
        {" · "}
        {word("approval_status", a.status)}
      </span>
      <dl>
        <Row label={t("approval.target")}>
          {href ? (
            <a href={href}>
              <code>{a.target}</code>
            </a>
          ) : (
            <code>{a.target}</code>
          )}
        </Row>
        <Row label={t("approval.requested_by")}>
          <code>{a.requested_by}</code>
          {own && ` (${t("approval.you")})`} · {when(a.requested_at)}
        </Row>
        {a.status === "pending" && <Row label={t("approval.expires")}>{when(a.expires_at)}</Row>}
        {a.decided_by && (
          <Row label={t("approval.decided_by")}>
            <code>{a.decided_by}</code> · {when(a.decided_at)}
          </Row>
        )}
      </dl>
      <details>
        <summary>{t("approval.request")}</summary>
        <dl data-approval-request>
          {requestRows(a.request).map((r) => (
            <Row key={r.key} label={word("approval_field", r.key)}>
              {r.text.includes("\n") ? <pre class="code">{r.text}</pre> : <code>{r.text}</code>}
            </Row>
          ))}
        </dl>
      </details>
      {a.outcome && (
        <details>
          <summary>{t("approval.outcome")}</summary>
          <pre class="code">{JSON.stringify(a.outcome, null, 2)}</pre>
        </details>
      )}
      {a.status === "pending" &&
        (own ? (
          <p class="muted" data-own-request>
            {t("approval.own")}
          </p>
        ) : (
          <Decide approval={a} onDecided={props.onDecided} />
        ))}
    </>
  );
}

function Decide({ approval, onDecided }: { approval: Approval; onDecided: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const decide = async (how: "approve" | "deny") => {
    const action = word("approval_action", approval.action);
    if (!confirm(t(`approval.${how}_confirm`, { action, target: approval.target }))) return;
    setBusy(true);
    setError(null);
    try {
      await call<Approval>("sharing", `/v1/admin/approvals/${path(approval.id)}/${how}`, {
        method: "POST",
      });
      onDecided();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={() => decide("approve")}>
          {t("approval.approve")}
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => decide("deny")}>
          {t("approval.deny")}
        </button>
      </div>
    </div>
  );
}
