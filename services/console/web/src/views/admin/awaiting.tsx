/** The one note every gated action shows when sharing answers 202: nothing happened yet, a
second operator must approve (with the approval's page for an operator, who may open it). */

import { currentSession } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { path } from "./model.ts";

export function AwaitingApproval({ approval }: { approval: { id: string } }) {
  const operator = currentSession()?.scopes().has("admin") ?? false;
  return (
    <div class="warning" role="status" data-awaiting-approval={approval.id}>
      <p>{t("approval.awaiting")}</p>
      {operator ? (
        <p>
          <a href={`/admin/approvals/${path(approval.id)}`}>
            {t("approval.open", { id: approval.id })}
          </a>
        </p>
      ) : (
        <p class="muted">{t("approval.request_id", { id: approval.id })}</p>
      )}
    </div>
  );
}
