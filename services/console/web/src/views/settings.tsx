/** The lawyer's settings: how they are reached, their organisation's escalation, their
watchlist, and this device. An administrator sees this device (and, with `escalation:manage`,
the organisation's escalation). */

import { currentSession } from "../api.ts";
import type { Device } from "../auth/device.ts";
import { t } from "../i18n/index.ts";
import { Row } from "./common.tsx";
import { Contacts } from "./contacts.tsx";
import { EscalationSettings } from "./escalation.tsx";
import { readsAlerts } from "./admin/model.ts";
import { Heading } from "./heading.tsx";
import { Watchlist } from "./watchlist.tsx";

export function Settings({ device, onForget }: { device: Device; onForget: () => Promise<void> }) {
  const scopes = currentSession()?.scopes() ?? new Set<string>();
  const lawyer = readsAlerts(scopes);
  return (
    <section class="settings">
      <Heading>{t("settings.title")}</Heading>
      {lawyer && <Contacts />}
      {(lawyer || scopes.has("escalation:manage")) && <EscalationSettings />}
      {lawyer && <Watchlist />}
      <section>
        <h2>{t("settings.device")}</h2>
        <dl>
          <Row label={t("enrol.device_name")}>{device.deviceName}</Row>
          <Row label={t("enrol.fingerprint")}>
            <span class="fingerprint small">{device.fingerprint}</span>
          </Row>
        </dl>
        <button
          type="button"
          onClick={() => {
            if (confirm(t("settings.forget_confirm"))) void onForget();
          }}
        >
          {t("settings.forget")}
        </button>
      </section>
    </section>
  );
}
