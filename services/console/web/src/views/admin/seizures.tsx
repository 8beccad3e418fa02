/** Seizures: the list (newest first, all / active / lifted), one seizure with what it took, and
lifting it — which, where the network asks for it, waits for a second operator. */

import { useEffect, useState } from "preact/hooks";
import { call, callAll } from "../../api.ts";
import { usePoll } from "../../hooks.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Row, Text, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { AwaitingApproval } from "./awaiting.tsx";
import { type Pending, path } from "./model.ts";
import { type Approval, type Seizure, takenRows } from "./security-model.ts";

const FILTERS = ["all", "active", "lifted"] as const;
const POLL_MS = 3000;

/** What a seizure took, kind by kind. */
export function Taken({ counts }: { counts: Record<string, number> }) {
  return (
    <dl class="taken" aria-label={t("seize.taken")}>
      {takenRows(counts).map(([kind, n]) => (
        <Row key={kind} label={word("taken", kind)}>
          <span data-taken={kind}>{n}</span>
        </Row>
      ))}
    </dl>
  );
}

function targetHref(s: Seizure): string {
  return s.target_kind === "partner"
    ? `/admin/partners/${path(s.target_id)}`
    : `/admin/clients/${path(s.target_id)}`;
}

export function Seizures() {
  const [filter, setFilter] = useState<(typeof FILTERS)[number]>("all");
  const [rows, setRows] = useState<Seizure[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setError(null);
    const query = filter === "all" ? "" : `?status=${filter}`;
    callAll<Seizure>("sharing", `/v1/admin/seizures${query}`).then(setRows, setError);
  }, [filter]);

  return (
    <section class="admin">
      <Heading>{t("seize.list")}</Heading>
      <p class="muted">{t("seize.list_hint")}</p>
      <div class="tabs" role="group" aria-label={t("seize.filter")}>
        {FILTERS.map((f) => (
          <button key={f} type="button" aria-pressed={filter === f} onClick={() => setFilter(f)}>
            {t(`seize.filter_${f}`)}
          </button>
        ))}
      </div>
      <ErrorNote error={error} />
      {rows?.length === 0 && <p class="muted">{t("seize.none")}</p>}
      <ul class="cards">
        {(rows ?? []).map((s) => (
          <li key={s.id} data-seizure-id={s.id} data-status={s.status}>
            <a href={`/admin/seizures/${path(s.id)}`}>
              <strong>{t(`seize.of_${s.target_kind}`, { id: s.target_id })}</strong>
            </a>
            <span class="muted">
              {" · "}
              {word("seizure_status", s.status)} · {when(s.created_at)}
            </span>
            <p class="small">
              {takenRows(s.counts)
                .filter(([, n]) => n > 0)
                .map(([kind, n]) => `${word("taken", kind)}: ${n}`)
                .join(" · ") || t("seize.took_nothing")}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SeizureView({ id }: { id: string }) {
  const [seizure, setSeizure] = useState<Seizure | null>(null);
  const [waiting, setWaiting] = useState<{ id: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // A second operator decides elsewhere: poll, so the lift (or its pending approval) shows.
  usePoll(
    async (signal) => {
      try {
        const found = await call<Seizure>("sharing", `/v1/admin/seizures/${path(id)}`, { signal });
        setSeizure(found);
        if (found.status !== "active") return setWaiting(null);
        const pending = "/v1/admin/approvals?status=pending";
        const open = await callAll<Approval>("sharing", pending, { signal });
        const mine = open.find((a) => a.action === "seizure_lift" && a.target === id);
        setWaiting(mine ?? null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [id],
  );

  const lift = async () => {
    if (!seizure || !confirm(t("seize.lift_confirm", { id: seizure.target_id }))) return;
    setBusy(true);
    setError(null);
    try {
      const lifting = `/v1/admin/seizures/${path(id)}/lift`;
      const answer = await call<Seizure | Pending>("sharing", lifting, { method: "POST" });
      if ("approval" in answer) setWaiting(answer.approval);
      else setSeizure(answer);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="admin">
      <p>
        <a href="/admin/seizures">{t("seize.back")}</a>
      </p>
      <Heading>
        {seizure ? t(`seize.of_${seizure.target_kind}`, { id: seizure.target_id }) : t("seize.one")}
      </Heading>
      <ErrorNote error={error} />
      {seizure && (
        <>
          <dl data-seizure-status={seizure.status}>
            <Row label={t("admin.id")}>
              <code>{seizure.id}</code>
            </Row>
            <Row label={t("seize.target")}>
              <a href={targetHref(seizure)}>
                <code>{seizure.target_id}</code>
              </a>
            </Row>
            <Row label={t("admin.status")}>{word("seizure_status", seizure.status)}</Row>
            <Row label={t("seize.reason_shown")}>
              <Text value={seizure.reason} />
            </Row>
            <Row label={t("seize.by")}>
              <code>{seizure.created_by}</code> · {when(seizure.created_at)}
            </Row>
            {seizure.lifted_at && (
              <Row label={t("seize.lifted_by")}>
                <code>{seizure.lifted_by}</code> · {when(seizure.lifted_at)}
              </Row>
            )}
            {seizure.lift_approval_id && (
              <Row label={t("seize.lift_approval")}>
                <a href={`/admin/approvals/${path(seizure.lift_approval_id)}`}>
                  <code>{seizure.lift_approval_id}</code>
                </a>
              </Row>
            )}
          </dl>
          <h2>{t("seize.taken")}</h2>
          <Taken counts={seizure.counts} />
          {waiting && <AwaitingApproval approval={waiting} />}
          {seizure.status === "active" && !waiting && (
            <>
              <p class="muted">{t("seize.lift_hint")}</p>
              <button type="button" class="danger" disabled={busy} onClick={lift}>
                {busy ? t("common.working") : t("seize.lift")}
              </button>
            </>
          )}
        </>
      )}
    </section>
  );
}
