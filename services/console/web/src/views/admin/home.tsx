/** Administration's first page: an operator's partners, or a partner administrator's own
partner (the token names it: `org` in sharing's whoami). */

import { useEffect, useState } from "preact/hooks";
import { call, currentSession } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { ErrorNote } from "../common.tsx";
import { PartnerView } from "./partner.tsx";
import { Partners } from "./partners.tsx";

export function AdminHome() {
  const operator = currentSession()?.scopes().has("admin") ?? false;
  const [org, setOrg] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (operator) return;
    call<{ org: string }>("sharing", "/v1/auth/whoami").then((w) => setOrg(w.org), setError);
  }, [operator]);

  if (operator) return <Partners />;
  if (org) return <PartnerView id={org} />;
  return error ? <ErrorNote error={error} /> : <p class="muted">{t("common.loading")}</p>;
}
