/** Release requests (sharing's `/v1/release-requests`): a lawyer of another partner asks for
fields of one of this partner's reports that the alert did not show; a reader or partner
administrator with `reports:manage` (or an operator) releases them or refuses, after a
confirmation. */

import { useState } from "preact/hooks";
import { call, callAllOf } from "../api.ts";
import { usePoll } from "../hooks.ts";
import { language, t, when } from "../i18n/index.ts";
import { ErrorNote, Row, Text } from "./common.tsx";
import { listText, type ReleaseRequest, sortRequests, stillWithheld } from "./grants-model.ts";

const POLL_MS = 5000;
const fieldList = (fields: string[]) => listText(fields.map((f) => t(`field.${f}`)), language());

function Decide({ request, onDecided }: { request: ReleaseRequest; onDecided: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const decide = async (action: "approve" | "deny") => {
    const values = {
      partner: request.partner_id,
      id: request.report_id,
      fields: fieldList(stillWithheld(request)),
    };
    const key = action === "approve" ? "releases.approve_confirm" : "releases.deny_confirm";
    if (!confirm(t(key, values))) return;
    setBusy(true);
    setError(null);
    try {
      await call("sharing", `/v1/release-requests/${encodeURIComponent(request.id)}/${action}`, {
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
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => decide("approve")}>
          {t("releases.approve")}
        </button>
        <button type="button" disabled={busy} onClick={() => decide("deny")}>
          {t("releases.deny")}
        </button>
      </div>
      <ErrorNote error={error} />
    </div>
  );
}

function RequestItem({ r, onDecided }: { r: ReleaseRequest; onDecided: () => void }) {
  return (
    <li data-request={r.id} data-status={r.status}>
      <p>
        <strong class="request-status">{t(`releases.status.${r.status}`)}</strong>
      </p>
      <dl>
        <Row label={t("releases.report")}>
          <code class="report-id">{r.report_id}</code>
        </Row>
        <Row label={t("releases.asked_by")}>
          <code>{r.partner_id}</code> · <Text value={r.asked_by} />
        </Row>
        <Row label={t("releases.asked_at")}>
          <time dateTime={r.requested_at}>{when(r.requested_at)}</time>
        </Row>
        <Row label={t("releases.fields")}>{fieldList(r.fields)}</Row>
        {r.released.length > 0 && (
          <Row label={t("releases.released")}>{fieldList(r.released)}</Row>
        )}
        {r.decided_at && (
          <Row label={t("releases.decided")}>
            <time dateTime={r.decided_at}>{when(r.decided_at)}</time> ·{" "}
            <Text value={r.decided_by} />
          </Row>
        )}
      </dl>
      {r.status === "pending" && <Decide request={r} onDecided={onDecided} />}
    </li>
  );
}

export function Releases() {
  const [requests, setRequests] = useState<ReleaseRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  usePoll(
    async (signal) => {
      try {
        const path = "/v1/release-requests";
        const page = (body: { requests: ReleaseRequest[] }) => body.requests;
        setRequests(sortRequests(await callAllOf("sharing", path, page, { signal })));
        setError(null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [tick],
  );
  const pending = requests?.filter((r) => r.status === "pending") ?? [];
  const decided = requests?.filter((r) => r.status !== "pending") ?? [];
  const reload = () => setTick(tick + 1);
  return (
    <section>
      <h1 tabIndex={-1}>{t("releases.title")}</h1>
      <p>{t("releases.intro")}</p>
      <ErrorNote error={error} />
      {requests === null && !error && <p>{t("common.loading")}</p>}
      {requests?.length === 0 && <p>{t("releases.empty")}</p>}
      {pending.length > 0 && (
        <>
          <h2>{t("releases.pending")}</h2>
          <ul class="cards releases">
            {pending.map((r) => (
              <RequestItem key={r.id} r={r} onDecided={reload} />
            ))}
          </ul>
        </>
      )}
      {decided.length > 0 && (
        <>
          <h2>{t("releases.decided_title")}</h2>
          <ul class="cards releases">
            {decided.map((r) => (
              <RequestItem key={r.id} r={r} onDecided={reload} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
