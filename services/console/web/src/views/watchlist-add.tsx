/** Adding a client to the watchlist: the name and date of birth become tokens in this browser;
only the tokens and the lawyer's label are sent. */

import { useState } from "preact/hooks";
import { call } from "../api.ts";
import { IdentityInputError } from "../identity/rules.ts";
import { tokeniseIdentities } from "../identity/tokens.ts";
import { t } from "../i18n/index.ts";
import type { Entry } from "../types.ts";
import { ErrorNote } from "./common.tsx";

export function AddEntry({ onAdded }: { onAdded: (entry: Entry) => void }) {
  const [label, setLabel] = useState("");
  const [name, setName] = useState("");
  const [dob, setDob] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState("");

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setAdded("");
    try {
      const [tokens] = await tokeniseIdentities(
        (path, opts) => call("sharing", path, opts),
        [[name, dob.trim() || null]],
      );
      const entry = await call<Entry>("alerts", "/v1/watchlist/entries", {
        method: "POST",
        body: { label: label.trim(), tokens },
      });
      onAdded(entry);
      setAdded(t("watchlist.added", { label: entry.label }));
      // The name was only ever in this form: forget it as soon as its tokens are stored.
      setName("");
      setDob("");
      setLabel("");
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const identity = error instanceof IdentityInputError ? error : null;
  return (
    <details class="add">
      <summary>{t("watchlist.add")}</summary>
      <p class="muted">{t("watchlist.private")}</p>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("watchlist.label")}
          <input
            name="label"
            value={label}
            maxLength={200}
            required
            onInput={(e) => setLabel((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("watchlist.name")}
          <input
            name="person-name"
            value={name}
            required
            autocomplete="off"
            spellcheck={false}
            aria-invalid={identity?.field === "name"}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t("watchlist.dob")}
          <input
            name="person-dob"
            value={dob}
            autocomplete="off"
            inputMode="numeric"
            placeholder={t("watchlist.dob_hint")}
            aria-invalid={identity?.field === "dob"}
            onInput={(e) => setDob((e.target as HTMLInputElement).value)}
          />
        </label>
        {identity ? (
          <p class="error" role="alert">
            {t(`identity.${identity.code}`)}
          </p>
        ) : (
          <ErrorNote error={error} />
        )}
        {added && <p role="status">{added}</p>}
        <button type="submit" disabled={busy}>
          {busy ? t("common.working") : t("watchlist.add_submit")}
        </button>
      </form>
    </details>
  );
}
