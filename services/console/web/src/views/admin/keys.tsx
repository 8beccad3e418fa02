/** A client's keys, one per device: name, fingerprint, status; confirm a pending one with the
fingerprint the device shows (a mismatch revokes it, as `lifeline admin key confirm`); revoke. */

import { useRef, useState } from "preact/hooks";
import { ApiError, call, callAll } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { usePoll } from "../../hooks.ts";
import { ErrorNote, Row, Text, word } from "../common.tsx";
import { AwaitingApproval } from "./awaiting.tsx";
import { type Key, type Pending, path, sameFingerprint } from "./model.ts";

const POLL_MS = 3000;

export function Keys(props: { clientId: string; version: number; onChange: () => void }) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<{ id: string } | null>(null);
  const seen = useRef<number | null>(null);

  // A device enrols on its own: poll, so its pending key shows without a reload.
  usePoll(
    async (signal) => {
      try {
        const listed = `/v1/admin/clients/${path(props.clientId)}/keys`;
        const found = await callAll<Key>("sharing", listed, { signal });
        // A device enrolled meanwhile used a code: the codes' list reads it again.
        if (seen.current !== null && seen.current !== found.length) props.onChange();
        seen.current = found.length;
        setKeys(found);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    },
    POLL_MS,
    [props.clientId, props.version],
  );

  const revoke = async (key: Key) => {
    const name = key.device_name ?? key.kid;
    if (!confirm(t("admin.key_revoke_confirm", { name }))) return;
    try {
      await call<Key>("sharing", `/v1/admin/keys/${path(key.kid)}/revoke`, { method: "POST" });
      props.onChange();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="keys">
      <h2>{t("admin.keys")}</h2>
      <p class="muted">{t("admin.keys_hint")}</p>
      <ErrorNote error={error} />
      {note && <p role="status">{note}</p>}
      {waiting && <AwaitingApproval approval={waiting} />}
      {keys?.length === 0 && <p class="muted">{t("admin.no_keys")}</p>}
      <ul class="cards">
        {(keys ?? []).map((k) => (
          <li key={k.kid} data-kid={k.kid} data-status={k.status}>
            <strong>
              {k.device_name ? <Text value={k.device_name} /> : t("admin.key_no_device")}
            </strong>
            <span class="muted">
              {" · "}
              {word("key_status", k.status)}
            </span>
            <dl>
              {/* Not shown while pending: it must be read off the device, not copied from here. */}
              {k.status !== "pending" && (
                <Row label={t("enrol.fingerprint")}>
                  <span class="fingerprint small">{k.fingerprint}</span>
                </Row>
              )}
              <Row label={t("admin.created")}>{when(k.created_at)}</Row>
              <Row label={t("admin.valid_until")}>{when(k.not_after)}</Row>
              {k.revoked_at && <Row label={t("admin.revoked_at")}>{when(k.revoked_at)}</Row>}
            </dl>
            {k.status === "pending" && (
              <Confirm
                keyRow={k}
                onDone={(text) => {
                  setNote(text);
                  setWaiting(null);
                  props.onChange();
                }}
                onWaiting={(approval) => {
                  setNote(null);
                  setWaiting(approval);
                }}
              />
            )}
            {k.status !== "revoked" && (
              <div class="actions">
                <button type="button" class="danger" onClick={() => revoke(k)}>
                  {t("admin.key_revoke")}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Confirm(props: {
  keyRow: Key;
  onDone: (note: string) => void;
  onWaiting: (approval: { id: string }) => void;
}) {
  const { keyRow, onDone, onWaiting } = props;
  const [typed, setTyped] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    // A typing slip would revoke the device's key: say so first, and send a different
    // fingerprint only when the administrator says the device really shows it.
    if (!sameFingerprint(typed, keyRow.fingerprint)) return setMismatch(true);
    await send();
  };

  const send = async () => {
    setError(null);
    try {
      const confirming = `/v1/admin/keys/${path(keyRow.kid)}/confirm`;
      const answer = await call<Key | Pending>("sharing", confirming, {
        method: "POST",
        body: { fingerprint: typed },
      });
      if ("approval" in answer) onWaiting(answer.approval);
      else onDone(t("admin.key_confirmed"));
    } catch (failure) {
      // A different fingerprint: the key that arrived is not the device's; sharing revoked it.
      if (failure instanceof ApiError && failure.status === 409) {
        onDone(t("admin.key_confirm_refused"));
      } else {
        setError(failure);
      }
    }
  };

  return (
    <form class="stack" onSubmit={submit}>
      <label>
        {t("admin.key_confirm_label")}
        <input
          name="fingerprint"
          value={typed}
          autocomplete="off"
          spellcheck={false}
          required
          onInput={(e) => {
            setTyped((e.target as HTMLInputElement).value);
            setMismatch(false);
          }}
        />
      </label>
      <ErrorNote error={error} />
      {mismatch && (
        <div role="alert">
          <p class="error">{t("admin.key_mismatch")}</p>
          <button type="button" class="danger" onClick={() => void send()}>
            {t("admin.key_mismatch_refuse")}
          </button>
        </div>
      )}
      <button type="submit" class="primary">
        {t("admin.key_confirm")}
      </button>
    </form>
  );
}
