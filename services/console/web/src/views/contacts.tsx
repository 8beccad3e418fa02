/** The lawyer's contacts: list, test, add, remove; the language alerts are written in. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../api.ts";
import { type Language, language, t, when } from "../i18n/index.ts";
import type { Contact, ContactHealth, Profile } from "../types.ts";
import { ErrorNote, Text, word } from "./common.tsx";

const ROLES = ["primary", "secondary", "backup"] as const;
/** Every channel kind alerts registers (a unit test holds the two lists together). */
export const CHANNELS = ["webhook", "email", "signal", "telegram", "ntfy", "sms"] as const;
type ChannelKind = (typeof CHANNELS)[number];
// How the address is typed on a phone's keyboard, per channel.
const INPUT_MODE: Record<ChannelKind, "url" | "email" | "tel" | "text"> = {
  webhook: "url",
  email: "email",
  signal: "tel",
  telegram: "text",
  ntfy: "url",
  sms: "tel",
};

/** What PUT /v1/lawyer/profile takes for a kept contact (secrets and keys stay on the server). */
export function kept(c: Contact) {
  return { role: c.role, channel: c.channel, address: c.address, name: c.name };
}

interface TestResult {
  delivered: boolean;
  error: string | null;
}

export function Contacts() {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [tests, setTests] = useState<Record<string, TestResult | "sending">>({});

  useEffect(() => {
    call<Profile>("alerts", "/v1/lawyer/profile").then(setProfile).catch(setError);
  }, []);

  const save = async (contacts: object[], lang: Language = (profile?.language as Language) ?? language()) => {
    try {
      const next = await call<Profile>("alerts", "/v1/lawyer/profile", {
        method: "PUT",
        body: { contacts, language: lang },
      });
      setProfile(next);
      setSecrets(next.new_secrets);
      setError(null);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    }
  };

  const test = async (contact: Contact) => {
    setTests((prev) => ({ ...prev, [contact.id]: "sending" }));
    try {
      const result = await call<TestResult>("alerts", "/v1/lawyer/profile/test", {
        method: "POST",
        body: { contact: contact.id },
      });
      setTests((prev) => ({ ...prev, [contact.id]: result }));
    } catch (failure) {
      setTests((prev) => ({ ...prev, [contact.id]: { delivered: false, error: codeOf(failure) } }));
    }
  };

  if (!profile) return <ErrorNote error={error} />;
  const contacts = profile.contacts;
  return (
    <section class="contacts">
      <h2>{t("contacts.title")}</h2>
      <ErrorNote error={error} />
      {profile.reachable === false && (
        <p class="warning" role="alert">
          {t("contacts.unreachable")}
        </p>
      )}
      {contacts.length === 0 && <p class="warning">{t("contacts.none")}</p>}
      <ul class="cards">
        {contacts.map((c) => {
          const result = tests[c.id];
          return (
            <li key={c.id} data-contact-id={c.id}>
              <strong>{word("role", c.role)}</strong> · {word("channel", c.channel)}
              {c.encrypted && <> · {t("contacts.encrypted")}</>}
              <br />
              <Text value={c.address} />
              {c.disabled && <p class="warning">{t("contacts.disabled")}</p>}
              {c.health && <Health health={c.health} />}
              {secrets[c.id] && (
                <p class="secret">
                  {t("contacts.new_secret")} <code>{secrets[c.id]}</code>
                </p>
              )}
              <div class="actions">
                <button type="button" disabled={result === "sending"} onClick={() => test(c)}>
                  {t("contacts.test")}
                </button>
                <button
                  type="button"
                  onClick={() => {
                    if (confirm(t("contacts.remove_confirm")))
                      void save(contacts.filter((o) => o.id !== c.id).map(kept));
                  }}
                >
                  {t("common.remove")}
                </button>
              </div>
              {result && result !== "sending" && (
                <p role="status" class={result.delivered ? "ok" : "error"}>
                  {result.delivered
                    ? t("contacts.test_ok")
                    : t("contacts.test_failed", { error: result.error ?? "?" })}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      <AddContact onAdd={(c) => save([...contacts.map(kept), c])} />
      <label class="inline">
        {t("contacts.language")}
        <select
          value={profile.language ?? "en"}
          onChange={(e) =>
            void save(contacts.map(kept), (e.target as HTMLSelectElement).value as Language)
          }
        >
          <option value="en">{t("language.en")}</option>
          <option value="ru">{t("language.ru")}</option>
        </select>
      </label>
    </section>
  );
}

/** The inbox's banner when none of the lawyer's contacts works (nothing when they do, or on
 * any error: the contacts page says more). */
export function UnreachableBanner() {
  const [reachable, setReachable] = useState(true);
  useEffect(() => {
    call<Profile>("alerts", "/v1/lawyer/profile")
      .then((p) => setReachable(p.reachable !== false))
      .catch(() => setReachable(true));
  }, []);
  if (reachable) return null;
  return (
    <p class="warning" role="alert">
      {t("inbox.unreachable")} <a href="/settings">{t("nav.settings")}</a>
    </p>
  );
}

/** A contact's health: its state and what it rests on (times, a failure's code, key expiry). */
function Health({ health }: { health: ContactHealth }) {
  const ok = health.state === "ok" || health.state === "unknown";
  return (
    <p class={ok ? "health muted" : "health warning"} data-health={health.state}>
      {t("contacts.health", { state: word("health", health.state) })}
      {health.last_success_at && <> · {t("contacts.last_success", { at: when(health.last_success_at) })}</>}
      {health.last_failure_at && (
        <>
          {" · "}
          {t("contacts.last_failure", {
            at: when(health.last_failure_at),
            reason: health.last_failure ?? "?",
            count: health.consecutive_failures,
          })}
        </>
      )}
      {health.key_expires_at && <> · {t("contacts.key_expires", { at: when(health.key_expires_at) })}</>}
    </p>
  );
}

function codeOf(failure: unknown): string {
  return (failure as { code?: string }).code ?? "error";
}

function AddContact({ onAdd }: { onAdd: (c: object) => Promise<boolean> }) {
  const [channel, setChannel] = useState<ChannelKind>("webhook");
  const [role, setRole] = useState<(typeof ROLES)[number]>("primary");
  const [address, setAddress] = useState("");
  const [pgp, setPgp] = useState("");
  const [token, setToken] = useState("");

  const submit = async (event: Event) => {
    event.preventDefault();
    const contact = {
      role,
      channel,
      address: address.trim(),
      ...(channel === "email" && pgp.trim() ? { pgp_public_key: pgp.trim() } : {}),
      ...(channel === "ntfy" && token.trim() ? { secret: token.trim() } : {}),
    };
    if (await onAdd(contact)) {
      setAddress("");
      setPgp("");
      setToken("");
    }
  };

  return (
    <details class="add">
      <summary>{t("contacts.add")}</summary>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("contacts.channel")}
          <select
            value={channel}
            aria-describedby="channel-carries"
            onChange={(e) => setChannel((e.target as HTMLSelectElement).value as ChannelKind)}
          >
            {CHANNELS.map((c) => (
              <option value={c} key={c}>
                {word("channel", c)}
              </option>
            ))}
          </select>
        </label>
        <p class="muted" id="channel-carries">
          {t(`contacts.carries.${channel}`)}
        </p>
        <label>
          {t("contacts.role")}
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as "primary")}>
            {ROLES.map((r) => (
              <option value={r} key={r}>
                {word("role", r)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t(`contacts.address.${channel}`)}
          <input
            type="text"
            inputMode={INPUT_MODE[channel]}
            autocomplete={channel === "email" ? "email" : INPUT_MODE[channel] === "url" ? "url" : "off"}
            spellcheck={false}
            value={address}
            required
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </label>
        {channel === "email" && (
          <label>
            {t("contacts.pgp")}
            <textarea
              rows={4}
              value={pgp}
              spellcheck={false}
              onInput={(e) => setPgp((e.target as HTMLTextAreaElement).value)}
            />
          </label>
        )}
        {channel === "ntfy" && (
          <label>
            {t("contacts.ntfy_token")}
            <input
              type="password"
              autocomplete="off"
              spellcheck={false}
              value={token}
              onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            />
          </label>
        )}
        <button type="submit">{t("contacts.save")}</button>
      </form>
    </details>
  );
}
