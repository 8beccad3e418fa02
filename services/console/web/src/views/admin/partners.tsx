/** The operator's partners: each with its id, status and contact line for lawyers; create one. */

import { useEffect, useState } from "preact/hooks";
import { call, callAll } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { navigate } from "../../router.ts";
import { ErrorNote, Text, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { type Partner, path } from "./model.ts";

export function Partners() {
  const [partners, setPartners] = useState<Partner[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    callAll<Partner>("sharing", "/v1/admin/partners").then(setPartners, setError);
  }, []);

  return (
    <section class="admin">
      <Heading>{t("admin.partners")}</Heading>
      <ErrorNote error={error} />
      <CreatePartner />
      {partners === null && !error && <p class="muted">{t("common.loading")}</p>}
      <ul class="cards partners">
        {(partners ?? []).map((p) => (
          <li key={p.id} data-partner-id={p.id}>
            <a href={`/admin/partners/${path(p.id)}`}>
              <strong>
                <Text value={p.name} />
              </strong>
            </a>
            <span class="muted">
              {" · "}
              {word("partner_status", p.status)}
              {p.is_operator ? ` · ${t("admin.operator_org")}` : ""}
            </span>
            <div class="muted small">
              <code>{p.id}</code>
            </div>
            <div>
              {p.lawyer_contact ? (
                <Text value={p.lawyer_contact} />
              ) : (
                <span class="muted">{t("admin.no_contact")}</span>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function CreatePartner() {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await call<Partner>("sharing", "/v1/admin/partners", {
        method: "POST",
        body: { name },
      });
      navigate(`/admin/partners/${path(made.id)}`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack" onSubmit={submit}>
      <h2>{t("admin.partner_create")}</h2>
      <label>
        {t("admin.partner_name")}
        <input
          name="partner_name"
          value={name}
          maxLength={200}
          required
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </label>
      <ErrorNote error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t("common.working") : t("admin.partner_create_submit")}
      </button>
    </form>
  );
}
