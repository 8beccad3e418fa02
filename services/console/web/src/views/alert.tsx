/** One alert: what happened, what the lawyer's policy shows of the report, whom to call, and
the two actions (acknowledge, resolve with an outcome). */

import { useEffect, useState } from "preact/hooks";
import { ApiError, call } from "../api.ts";
import { chargesText, NOT_SHOWN, REPORT_FIELDS, VOCABULARY, valueAt } from "../fields.ts";
import { usePoll } from "../hooks.ts";
import { t, when } from "../i18n/index.ts";
import type { Alert, AlertDetail, ReportView } from "../types.ts";
import { ErrorNote, Row, Text, word } from "./common.tsx";
import { Heading } from "./heading.tsx";
import { Updates } from "./followups.tsx";
import { Resolve } from "./resolve.tsx";

const ALERT_POLL_MS = 5000;
const VOCABULARY_KIND: Record<string, string> = {
  incident_type: "incident",
  legal_basis: "basis",
  "place.facility_kind": "facility",
  status: "report_status",
};

export function AlertView({ id }: { id: string }) {
  const [alert, setAlert] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  usePoll(
    async (signal) => {
      try {
        const found = await call<AlertDetail>("alerts", `/v1/alerts/${encodeURIComponent(id)}`, {
          signal,
        });
        if (!signal.aborted) setAlert(found);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    ALERT_POLL_MS,
    [id],
  );

  const acknowledge = async () => {
    setBusy(true);
    try {
      const result = await call<{ alert: Alert; already: boolean }>(
        "alerts",
        `/v1/alerts/${encodeURIComponent(id)}/ack`,
        { method: "POST" },
      );
      const ack = result.alert.acknowledged;
      setNotice(
        result.already && ack ? t("alert.already", { by: ack.by, at: when(ack.at) }) : t("alert.acked"),
      );
      setAlert((prev) => (prev ? { ...prev, ...result.alert } : prev));
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (!alert) {
    return error instanceof ApiError && error.status === 404 ? (
      <Heading>{t("alert.not_found")}</Heading>
    ) : (
      <section>
        <ErrorNote error={error} />
        {!error && <p aria-busy="true">{t("common.loading")}</p>}
      </section>
    );
  }

  return (
    <article class="alert-view">
      <p>
        <a href="/">← {t("nav.alerts")}</a>
      </p>
      <Heading>
        <Text value={alert.label} />
      </Heading>
      <p class="status-line">
        <span class={`badge priority-${alert.priority}`}>{word("priority", alert.priority)}</span>{" "}
        <span class="status" data-status={alert.status}>
          {t(`status.${alert.status}`)}
        </span>
      </p>
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorNote error={error} />
      {alert.status === "open" && (
        <button type="button" class="primary big" disabled={busy} onClick={acknowledge}>
          {t("alert.ack")}
        </button>
      )}
      {alert.acknowledged && (
        <p class="muted">
          {t("alert.acked_by", { by: alert.acknowledged.by, at: when(alert.acknowledged.at) })}
        </p>
      )}

      <h2>{t("alert.what")}</h2>
      <dl>
        <Row label={t("alert.match")}>
          {word("strength", alert.match.strength)}
          {alert.match.agreed.length > 0 && (
            <>
              {" — "}
              {t("alert.agreed", {
                kinds: alert.match.agreed.map((k) => word("token", k)).join(", "),
              })}
            </>
          )}
        </Row>
        <Row label={t("field.incident_type")}>{word("incident", alert.incident_type) || "—"}</Row>
        <Row label={t("field.legal_basis")}>{word("basis", alert.legal_basis) || "—"}</Row>
        <Row label={t("field.place.country")}>{alert.country ?? "—"}</Row>
        <Row label={t("field.place.facility_kind")}>
          {word("facility", alert.facility_kind) || "—"}
        </Row>
        <Row label={t("field.occurred_at")}>{when(alert.occurred_at) || "—"}</Row>
        <Row label={t("alert.reports")}>{alert.report_count}</Row>
        {alert.case_status && (
          <Row label={t("followup.case_status")}>{t(`report_status.${alert.case_status}`)}</Row>
        )}
      </dl>

      <Updates alert={alert} />

      {alert.restricted ? (
        <Restricted alert={alert} />
      ) : (
        <Report reportId={alert.report_id} key={`${alert.report_id}:${alert.release ?? ""}`} />
      )}

      {alert.status !== "withdrawn" && (
        <Resolve alert={alert} onResolved={(next) => setAlert({ ...alert, ...next })} />
      )}

      <Deliveries alert={alert} />
    </article>
  );
}

function Restricted({ alert }: { alert: Alert }) {
  return (
    <section class="restricted">
      <h2>{t("alert.report")}</h2>
      <p>{t("alert.restricted")}</p>
      {alert.release && <p class="muted">{t(`release.${alert.release}`)}</p>}
    </section>
  );
}

/** The report as the lawyer's policy lets them read it (each read is audited by sharing). */
function Report({ reportId }: { reportId: string }) {
  const [report, setReport] = useState<ReportView | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const abort = new AbortController();
    call<ReportView>("sharing", `/v1/reports/${encodeURIComponent(reportId)}`, {
      signal: abort.signal,
    })
      .then(setReport)
      .catch((failure) => !abort.signal.aborted && setError(failure));
    return () => abort.abort();
  }, [reportId]);

  if (error) {
    return (
      <section>
        <h2>{t("alert.report")}</h2>
        <ErrorNote error={error} />
      </section>
    );
  }
  if (!report) return <p aria-busy="true">{t("common.loading")}</p>;
  const withheld = new Set(report.withheld);
  const shown = REPORT_FIELDS.filter(
    (f) => !NOT_SHOWN.has(f) && (withheld.has(f) || valueAt(report.report ?? {}, f) != null),
  );
  return (
    <section class="report">
      <h2>{t("alert.report")}</h2>
      <h3>{t("alert.contact")}</h3>
      <p class="contact-line">
        {report.partner_contact ? <Text value={report.partner_contact} /> : t("alert.no_contact")}
      </p>
      <dl>
        {shown.map((field) => (
          <Row label={t(`field.${field}`)} key={field}>
            {withheld.has(field) ? (
              <span class="withheld" data-withheld={field}>
                {t("alert.withheld")}
              </span>
            ) : (
              <FieldValue field={field} value={valueAt(report.report, field)} />
            )}
          </Row>
        ))}
      </dl>
    </section>
  );
}

function FieldValue({ field, value }: { field: string; value: unknown }) {
  if (field === "charges") return <Text value={chargesText(value)} />;
  if (field === "occurred_at") return <>{when(String(value))}</>;
  if (VOCABULARY.has(field)) return <>{word(VOCABULARY_KIND[field], String(value))}</>;
  if (typeof value === "string") return <Text value={value} />;
  return <Text value={JSON.stringify(value)} />;
}

function Deliveries({ alert }: { alert: AlertDetail }) {
  if (!alert.deliveries.length) return null;
  return (
    <details class="deliveries">
      <summary>{t("alert.deliveries", { count: alert.deliveries.length })}</summary>
      <ul>
        {alert.deliveries.map((d) => (
          <li key={d.id}>
            {word("channel", d.channel)} · {word("delivery", d.status)} ·{" "}
            {t("alert.attempts", { count: d.attempts.length })}
          </li>
        ))}
      </ul>
    </details>
  );
}
