/** What a device that cannot sign in (yet) sees, and why. */

import { useEffect } from "preact/hooks";
import type { Auth } from "../app.tsx";
import { t } from "../i18n/index.ts";
import { rememberNext } from "../router.ts";
import { Heading } from "./heading.tsx";

export function SignIn({ auth, onForget }: { auth: Auth; onForget: () => Promise<void> }) {
  // An alert link opened on a device that is not signed in: show that alert after enrolment.
  useEffect(() => rememberNext(location.pathname), []);
  switch (auth.kind) {
    case "loading":
      return <p aria-busy="true">{t("common.loading")}</p>;
    case "unsupported":
      return (
        <section>
          <Heading>{t("signin.unsupported_title")}</Heading>
          <p>{t("signin.unsupported")}</p>
        </section>
      );
    case "none":
      return (
        <section>
          <Heading>{t("signin.none_title")}</Heading>
          <p>{t("signin.none")}</p>
          <p>
            <a href="/enrol" class="button">
              {t("signin.enter_code")}
            </a>
          </p>
        </section>
      );
    case "waiting":
      return (
        <section>
          <Heading>{t("signin.waiting_title")}</Heading>
          <p>{t("enrol.read_fingerprint")}</p>
          <p class="fingerprint" aria-label={t("enrol.fingerprint")}>
            {auth.device.fingerprint}
          </p>
          <p class="muted" role="status">
            {t("signin.waiting")}
          </p>
        </section>
      );
    case "offline":
      return (
        <section>
          <Heading>{t("signin.offline_title")}</Heading>
          <p role="status">{t("signin.offline")}</p>
        </section>
      );
    case "refused":
      return (
        <section>
          <Heading>{t("signin.refused_title")}</Heading>
          <p>{t("signin.refused")}</p>
          <button type="button" onClick={() => void onForget()}>
            {t("settings.forget")}
          </button>
        </section>
      );
    default:
      return null;
  }
}
