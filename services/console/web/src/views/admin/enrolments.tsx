/** A client's enrolment codes: make one (shown once, with its link), list them, cancel one. */

import { useEffect, useState } from "preact/hooks";
import { call, callAll } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Row, word } from "../common.tsx";
import { type Enrolment, type Issued, path } from "./model.ts";
import { qrPath } from "./qr.ts";

export function Enrolments(props: {
  clientId: string;
  active: boolean;
  version: number;
  onChange: () => void;
}) {
  const [rows, setRows] = useState<Enrolment[] | null>(null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState<unknown>(null);
  const base = `/v1/admin/clients/${path(props.clientId)}/enrolments`;

  useEffect(() => {
    callAll<Enrolment>("sharing", base).then(setRows, setError);
  }, [props.clientId, props.version]);

  const make = async () => {
    setError(null);
    try {
      setIssued(await call<Issued>("sharing", base, { method: "POST" }));
      props.onChange();
    } catch (failure) {
      setError(failure);
    }
  };

  const cancel = async (row: Enrolment) => {
    if (!confirm(t("admin.enrolment_cancel_confirm"))) return;
    try {
      await call<Enrolment>("sharing", `${base}/${path(row.id)}`, { method: "DELETE" });
      if (issued?.id === row.id) setIssued(null);
      props.onChange();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="enrolments">
      <h2>{t("admin.enrolments")}</h2>
      <p class="muted">{t("admin.enrolments_hint")}</p>
      {props.active && (
        <button type="button" class="primary" onClick={make}>
          {t("admin.enrolment_make")}
        </button>
      )}
      <ErrorNote error={error} />
      {issued && <IssuedCode issued={issued} />}
      {rows?.length === 0 && <p class="muted">{t("admin.no_enrolments")}</p>}
      <ul class="cards">
        {(rows ?? []).map((r) => (
          <li key={r.id} data-enrolment-id={r.id}>
            <strong>{word("enrolment_status", r.status)}</strong>
            <span class="muted">
              {" · "}
              {t("admin.made_at", { at: when(r.created_at) })}
              {r.status === "open" ? ` · ${t("admin.expires_at", { at: when(r.expires_at) })}` : ""}
            </span>
            {r.status === "open" && (
              <div class="actions">
                <button type="button" onClick={() => cancel(r)}>
                  {t("admin.enrolment_cancel")}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The new code: shown this once (sharing keeps only its hash). */
function IssuedCode({ issued }: { issued: Issued }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied(null);
    }
  };
  return (
    <div class="secret issued" role="region" aria-label={t("admin.enrolment_new")}>
      <p>
        <strong>{t("admin.enrolment_once")}</strong>
      </p>
      <QrCode text={issued.link} />
      <dl>
        <Row label={t("admin.enrolment_link")}>
          <code data-enrolment-link>{issued.link}</code>
        </Row>
        <Row label={t("admin.enrolment_code")}>
          <code>{issued.code}</code>
        </Row>
        <Row label={t("admin.enrolment_expires")}>{when(issued.expires_at)}</Row>
      </dl>
      <div class="actions">
        <button type="button" onClick={() => copy("link", issued.link)}>
          {t("admin.copy_link")}
        </button>
        <button type="button" onClick={() => copy("code", issued.code)}>
          {t("admin.copy_code")}
        </button>
      </div>
      {copied && <p role="status">{t("admin.copied")}</p>}
      <p class="muted">{t("admin.enrolment_next")}</p>
    </div>
  );
}

/** The link for the phone's camera, drawn as SVG elements. */
function QrCode({ text }: { text: string }) {
  const { size, d } = qrPath(text);
  return (
    <svg
      class="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={t("admin.enrolment_qr")}
      shape-rendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
