/** Pieces every view uses: text from outside shown as text, errors, definition rows. */

import type { ComponentChildren } from "preact";
import { ApiError } from "../api.ts";
import { DeviceRefused } from "../auth/session.ts";
import { IdentityRulesOutdated } from "../identity/tokens.ts";
import { errorMessage, t } from "../i18n/index.ts";

/** Text from a partner, a lawyer or a server: isolated for direction, never parsed as markup. */
export function Text({ value }: { value: string | null | undefined }) {
  return <bdi>{value ?? ""}</bdi>;
}

/** The message for a failure, in the current language. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return errorMessage(error.code);
  if (error instanceof DeviceRefused) return errorMessage(error.code);
  if (error instanceof IdentityRulesOutdated) {
    // Older than the network: a reload fetches the current console; newer: the operator has
    // not switched the network yet.
    const key = error.client < error.network ? "identity_rules_outdated" : "identity_rules_ahead";
    return t(`error.${key}`, { client: error.client, network: error.network });
  }
  if (error instanceof TypeError) return t("error.network");
  return t("error.unknown", { code: "client" });
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {describe(error)}
    </p>
  );
}

export function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A vocabulary word (incident type, legal basis …) in the current language. */
export function word(kind: string, value: string | null | undefined): string {
  if (!value) return "";
  const key = `${kind}.${value}`;
  const text = t(key);
  return text === key ? value : text;
}
