/** Rotating the KEK and rewrapping data keys under the new primary, each after a confirmation
(sealing keys stay with the CLI: intake must pin a new fingerprint before it is used). */

import { useState } from "preact/hooks";
import { call } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { ErrorNote } from "../common.tsx";
import { type KekVersion, type RewrapStep, rewrapDone, toRewrap } from "./security-model.ts";

const KEK = "/v1/admin/vault/kek";

export function KekActions({ kek, onChange }: { kek: KekVersion[]; onChange: () => void }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const waiting = toRewrap(kek);

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setNote(null);
    setError(null);
    try {
      setNote(await work());
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
      onChange();
    }
  };

  const rotate = () => {
    if (!confirm(t("vault.rotate_confirm"))) return;
    void run(async () => {
      const body = { promote: true };
      const made = await call<{ version: number }>("sharing", `${KEK}/rotate`, {
        method: "POST",
        body,
      });
      return t("vault.rotated", { version: made.version });
    });
  };

  const rewrap = () => {
    if (!confirm(t("vault.rewrap_confirm", { count: waiting }))) return;
    void run(async () => {
      let total = 0;
      for (let idle = 0; ; ) {
        const step = await call<RewrapStep>("sharing", `${KEK}/rewrap`, { method: "POST" });
        total += step.rewrapped;
        idle = step.rewrapped ? 0 : idle + 1;
        if (idle) await new Promise((wake) => setTimeout(wake, 500)); // another replica's rows
        if (rewrapDone(step, idle)) {
          return t("vault.rewrapped", {
            count: total,
            version: step.primary,
            remaining: step.remaining,
            failed: step.failed,
          });
        }
      }
    });
  };

  return (
    <div class="stack">
      <p class="muted">{t("vault.rotate_hint")}</p>
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={rotate}>
          {t("vault.rotate")}
        </button>
        {waiting > 0 && (
          <button type="button" disabled={busy} onClick={rewrap}>
            {t("vault.rewrap", { count: waiting })}
          </button>
        )}
      </div>
      {busy && <p class="muted">{t("common.working")}</p>}
      <ErrorNote error={error} />
      {note && <p role="status">{note}</p>}
    </div>
  );
}
