/** Enrolment: this browser makes its own key and registers it with a one-time code. */

import { useEffect, useState } from "preact/hooks";
import { errorOf } from "../api.ts";
import { type Device, saveDevice } from "../auth/device.ts";
import { fingerprint, newDeviceKey, publicJwk, rawPublicKey } from "../auth/keys.ts";
import { t } from "../i18n/index.ts";
import { codeFrom, nextPath } from "../router.ts";
import { ErrorNote } from "./common.tsx";
import { Heading } from "./heading.tsx";

function defaultDeviceName(): string {
  const mobile = /Mobi|Android|iPhone/.test(navigator.userAgent);
  return mobile ? t("enrol.default_phone") : t("enrol.default_computer");
}

export function Enrol(props: { code: string | null; onEnrolled: (d: Device) => Promise<void> }) {
  const [code, setCode] = useState(props.code ?? "");
  const [name, setName] = useState(defaultDeviceName);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Device | null>(null);
  const [next] = useState(nextPath);

  useEffect(() => {
    // The code is a credential until used: take it out of the address bar and the history.
    if (location.hash) history.replaceState(null, "", "/enrol");
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = codeFrom(code);
    if (!parsed) return setError({ code: "invalid_code" });
    setBusy(true);
    setError(null);
    try {
      const keys = await newDeviceKey();
      const raw = await rawPublicKey(keys.publicKey);
      const answer = await fetch("/api/sharing/v1/enrol", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ code: parsed, public_key: publicJwk(raw), device_name: name }),
        cache: "no-store",
      });
      if (!answer.ok) throw await errorOf(answer);
      const body = await answer.json();
      const device: Device = {
        clientId: body.client_id,
        kid: body.kid,
        // Computed here, from the key this browser holds: what the admin must see.
        fingerprint: await fingerprint(raw),
        deviceName: name,
        keys,
        enrolledAt: new Date().toISOString(),
      };
      await saveDevice(device);
      setDone(device);
      void props.onEnrolled(device);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <section>
        <Heading>{t("enrol.done_title")}</Heading>
        <p>{t("enrol.read_fingerprint")}</p>
        <p class="fingerprint" aria-label={t("enrol.fingerprint")}>
          {done.fingerprint}
        </p>
        <p class="muted">{t("enrol.waiting")}</p>
        <p>
          <a href={next}>{t("enrol.continue")}</a>
        </p>
      </section>
    );
  }

  const invalid = (error as { code?: string } | null)?.code === "invalid_code";
  return (
    <section>
      <Heading>{t("enrol.title")}</Heading>
      <p>{t("enrol.intro")}</p>
      <form onSubmit={submit} class="stack">
        <label>
          {t("enrol.code")}
          <input
            name="code"
            value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            autocomplete="off"
            spellcheck={false}
            required
            aria-invalid={invalid}
          />
        </label>
        <label>
          {t("enrol.device_name")}
          <input
            name="device_name"
            value={name}
            maxLength={100}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        {invalid ? (
          <p class="error" role="alert">
            {t("enrol.invalid_code")}
          </p>
        ) : (
          <ErrorNote error={error} />
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("common.working") : t("enrol.submit")}
        </button>
      </form>
    </section>
  );
}
