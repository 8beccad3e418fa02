/** What the NGO sees once intake accepted a report: its id and its receipt, polled. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../api.ts";
import { t } from "../i18n/index.ts";
import type { Receipt } from "../report.ts";
import { ErrorNote } from "./common.tsx";

const RECEIPT_POLL_MS = 1500;
const RECEIPT_POLLS = 20;

/** The report id and its receipt, polled until sharing has stored it. */
export function Accepted(props: { id: string; duplicate: boolean; onClose: () => void }) {
  const { id, duplicate, onClose } = props;
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (left: number) => {
      try {
        const next = await call<Receipt>("intake", `/v1/reports/${encodeURIComponent(id)}/receipt`);
        if (stop) return;
        setReceipt(next);
        if (next.status === "stored" || left <= 0) return;
      } catch (failure) {
        if (!stop) setError(failure);
        return;
      }
      timer = setTimeout(() => void poll(left - 1), RECEIPT_POLL_MS);
    };
    void poll(RECEIPT_POLLS);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [id]);
  return (
    <div class="issued" role="status" aria-live="polite">
      <p class="ok">{duplicate ? t("report.duplicate") : t("report.accepted")}</p>
      <p>
        {t("report.id")} <code class="report-id">{id}</code>
      </p>
      <p>
        {t("report.receipt")}{" "}
        <strong class="receipt-status" data-status={receipt?.status ?? ""}>
          {receipt ? t(`receipt.${receipt.status}`) : t("common.loading")}
        </strong>
      </p>
      <ErrorNote error={error} />
      <div class="actions">
        <a href="/reports">{t("report.to_list")}</a>
        <button type="button" onClick={onClose}>
          {t("report.another")}
        </button>
      </div>
    </div>
  );
}
