/** The lawyer's settings: how they are reached, their organisation's escalation, their
watchlist, and this device. */

import type { Device } from "../auth/device.ts";
import { t } from "../i18n/index.ts";
import { Row } from "./common.tsx";
import { Contacts } from "./contacts.tsx";
import { EscalationSettings } from "./escalation.tsx";
import { Heading } from "./heading.tsx";
import { Watchlist } from "./watchlist.tsx";

export function Settings({ device, onForget }: { device: Device; onForget: () => Promise<void> }) {
  return (
    <section class="settings">
      <Heading>{t("settings.title")}</Heading>
      <Contacts />
      <EscalationSettings />
      <Watchlist />
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
