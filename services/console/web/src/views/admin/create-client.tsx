/** A new client of a partner: its name, its role, the scopes (within the role) it may ask for. */

import { useState } from "preact/hooks";
import { call, currentSession } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { navigate } from "../../router.ts";
import { ErrorNote, word } from "../common.tsx";
import { type Client, DEFAULT_SCOPES, path, ROLE_SCOPES, rolesFor } from "./model.ts";

export function CreateClient(props: {
  partnerId: string;
  partnerIsOperator: boolean;
  onCreated: (c: Client) => void;
}) {
  const operator = currentSession()?.scopes().has("admin") ?? false;
  const roles = rolesFor(props.partnerIsOperator, operator);
  const [name, setName] = useState("");
  const [role, setRole] = useState("lawyer");
  const [scopes, setScopes] = useState<string[]>(DEFAULT_SCOPES.lawyer);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const pickRole = (next: string) => {
    setRole(next);
    setScopes(DEFAULT_SCOPES[next] ?? []);
  };
  const toggle = (scope: string, on: boolean) =>
    setScopes((prev) => (on ? [...prev, scope] : prev.filter((s) => s !== scope)));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await call<Client>("sharing", "/v1/admin/clients", {
        method: "POST",
        body: { partner_id: props.partnerId, name, role, scopes },
      });
      props.onCreated(made);
      navigate(`/admin/clients/${path(made.id)}`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack" onSubmit={submit}>
      <h2>{t("admin.client_create")}</h2>
      <label>
        {t("admin.client_name")}
        <input
          name="client_name"
          value={name}
          maxLength={200}
          required
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        {t("admin.role")}
        <select
          name="role"
          value={role}
          onChange={(e) => pickRole((e.target as HTMLSelectElement).value)}
        >
          {roles.map((r) => (
            <option value={r} key={r}>
              {word("client_role", r)}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t("admin.scopes")}</legend>
        {(ROLE_SCOPES[role] ?? []).map((s) => (
          <label class="check" key={s}>
            <input
              type="checkbox"
              name="scope"
              value={s}
              checked={scopes.includes(s)}
              onChange={(e) => toggle(s, (e.target as HTMLInputElement).checked)}
            />{" "}
            {word("scope", s)}
          </label>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      <button type="submit" class="primary" disabled={busy || scopes.length === 0}>
        {busy ? t("common.working") : t("admin.client_create_submit")}
      </button>
    </form>
  );
}
