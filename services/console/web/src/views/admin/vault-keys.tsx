/** The vault's keys: KEK versions with the data keys wrapped under each (rotating and rewrapping
them), and the intake-sealing keys with their fingerprints and last use (no key material). */

import { useEffect, useState } from "preact/hooks";
import { call } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Row, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { type KeyStatus, suiteOf } from "./security-model.ts";
import { KekActions } from "./vault-actions.tsx";

export function VaultKeys() {
  const [status, setStatus] = useState<KeyStatus | null>(null);
  const [error, setError] = useState<unknown>(null);

  // Bumped after a rotation or a rewrap, so the versions and counts are read again.
  const [version, setVersion] = useState(0);

  useEffect(() => {
    call<KeyStatus>("sharing", "/v1/admin/vault/keys").then(setStatus, setError);
  }, [version]);

  return (
    <section class="admin">
      <Heading>{t("vault.heading")}</Heading>
      <p class="muted">{t("vault.hint")}</p>
      <ErrorNote error={error} />
      {!status && !error && <p class="muted">{t("common.loading")}</p>}
      {status && (
        <>
          <h2>{t("vault.kek")}</h2>
          <p class="muted">{t("vault.kek_hint")}</p>
          <ul class="cards">
            {status.kek.map((v) => (
              <li key={v.version} data-kek-version={v.version} data-state={v.state}>
                <strong>{t("vault.kek_version", { version: v.version })}</strong>
                <span class="muted">
                  {" · "}
                  {word("kek_state", v.state)}
                  {v.primary && ` · ${t("vault.primary")}`}
                </span>
                <dl>
                  <Row label={t("vault.data_keys")}>
                    <span data-data-keys>{v.data_keys}</span>
                  </Row>
                  <Row label={t("admin.created")}>{when(v.created_at)}</Row>
                </dl>
              </li>
            ))}
          </ul>
          <KekActions kek={status.kek} onChange={() => setVersion((v) => v + 1)} />
          <h2>{t("vault.sealing")}</h2>
          <p class="muted">{t("vault.sealing_hint")}</p>
          <ul class="cards">
            {status.sealing.map((k) => (
              <li key={k.kid} data-sealing-kid={k.kid} data-state={k.state}>
                <strong>{word("sealing_state", k.state)}</strong>
                <dl>
                  <Row label={t("vault.suite")}>{word("suite", suiteOf(k.public_key))}</Row>
                  <Row label={t("vault.kid")}>
                    <code>{k.kid}</code>
                  </Row>
                  <Row label={t("enrol.fingerprint")}>
                    <span class="fingerprint small" data-fingerprint>
                      {k.fingerprint}
                    </span>
                  </Row>
                  <Row label={t("admin.created")}>{when(k.created_at)}</Row>
                  <Row label={t("vault.last_use")}>
                    {k.last_report_at ? when(k.last_report_at) : t("vault.never")}
                  </Row>
                </dl>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
