/** The reports this browser submitted in this session, with their receipts from intake. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../api.ts";
import { t } from "../i18n/index.ts";
import { type Receipt, SUBMITTED } from "../report.ts";
import { ErrorNote } from "./common.tsx";

function Line({ id }: { id: string }) {
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    call<Receipt>("intake", `/v1/reports/${encodeURIComponent(id)}/receipt`)
      .then(setReceipt)
      .catch(setError);
  }, [id]);
  return (
    <li>
      <code class="report-id">{id}</code>
      {receipt && (
        <p>
          <span class="muted">{receipt.client_report_id}</span>{" "}
          <strong class="receipt-status" data-status={receipt.status}>
            {t(`receipt.${receipt.status}`)}
          </strong>{" "}
          <time dateTime={receipt.received_at}>{new Date(receipt.received_at).toLocaleString()}</time>
        </p>
      )}
      <ErrorNote error={error} />
    </li>
  );
}

export function Submissions() {
  return (
    <section>
      <h1 tabIndex={-1}>{t("submissions.title")}</h1>
      <p class="muted">{t("submissions.note")}</p>
      {SUBMITTED.length === 0 ? (
        <p>{t("submissions.empty")}</p>
      ) : (
        <ul class="cards submissions">
          {SUBMITTED.map((s) => (
            <Line key={s.id} id={s.id} />
          ))}
        </ul>
      )}
      <p>
        <a href="/reports/new">{t("nav.report")}</a>
      </p>
    </section>
  );
}
