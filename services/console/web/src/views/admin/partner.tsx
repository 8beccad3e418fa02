/** One partner: its contact line for lawyers, disabling it, its clients and a new client. */

import { useEffect, useState } from "preact/hooks";
import { call, callAll, currentSession } from "../../api.ts";
import { t } from "../../i18n/index.ts";
import { ErrorNote, Row, Text, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { CreateClient } from "./create-client.tsx";
import { Seize } from "./seize.tsx";
import { type Client, type Partner, path } from "./model.ts";

export function PartnerView({ id }: { id: string }) {
  const operator = currentSession()?.scopes().has("admin") ?? false;
  const [partner, setPartner] = useState<Partner | null>(null);
  const [clients, setClients] = useState<Client[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const loadClients = () =>
    callAll<Client>("sharing", `/v1/admin/clients?partner_id=${encodeURIComponent(id)}`).then(
      setClients,
      setError,
    );

  useEffect(() => {
    // A partner administrator may not read the partner record (operators only): its own
    // clients and contact line are still its to manage.
    if (operator) {
      call<Partner>("sharing", `/v1/admin/partners/${path(id)}`).then(setPartner, setError);
    }
    void loadClients();
  }, [id]);

  const disable = async () => {
    if (!partner || !confirm(t("admin.partner_disable_confirm", { name: partner.name }))) return;
    try {
      const disabling = `/v1/admin/partners/${path(id)}/disable`;
      setPartner(await call<Partner>("sharing", disabling, { method: "POST" }));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="admin">
      {operator && (
        <p>
          <a href="/admin/partners">{t("admin.back_partners")}</a>
        </p>
      )}
      <Heading>{partner ? <Text value={partner.name} /> : t("admin.your_organisation")}</Heading>
      <ErrorNote error={error} />
      <dl>
        <Row label={t("admin.id")}>
          <code>{id}</code>
        </Row>
        {partner && <Row label={t("admin.status")}>{word("partner_status", partner.status)}</Row>}
      </dl>
      <ContactLine id={id} current={partner?.lawyer_contact ?? null} onSaved={setPartner} />
      {partner && operator && partner.status === "active" && !partner.is_operator && (
        <p>
          <button type="button" class="danger" onClick={disable}>
            {t("admin.partner_disable")}
          </button>
        </p>
      )}
      {partner?.status === "active" && operator && !partner.is_operator && (
        <Seize kind="partner" id={partner.id} name={partner.name} />
      )}
      <section>
        <h2>{t("admin.clients")}</h2>
        {clients?.length === 0 && <p class="muted">{t("admin.no_clients")}</p>}
        <ul class="cards clients">
          {(clients ?? []).map((c) => (
            <li key={c.id} data-client-id={c.id}>
              <a href={`/admin/clients/${path(c.id)}`}>
                <strong>
                  <Text value={c.name} />
                </strong>
              </a>
              <span class="muted">
                {" · "}
                {word("client_role", c.role)} · {word("client_status", c.status)}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <CreateClient
        partnerId={id}
        partnerIsOperator={partner?.is_operator ?? false}
        onCreated={() => void loadClients()}
      />
    </section>
  );
}

function ContactLine(props: { id: string; current: string | null; onSaved: (p: Partner) => void }) {
  const [line, setLine] = useState(props.current ?? "");
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setLine(props.current ?? ""), [props.current]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    setError(null);
    try {
      const contact = `/v1/admin/partners/${path(props.id)}/contact`;
      const partner = await call<Partner>("sharing", contact, {
        method: "PUT",
        body: { lawyer_contact: line.trim() || null },
      });
      props.onSaved(partner);
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <form class="stack" onSubmit={submit}>
      <h2>{t("admin.contact")}</h2>
      <p class="muted">{t("admin.contact_hint")}</p>
      <label>
        {t("admin.contact_line")}
        <input
          name="lawyer_contact"
          value={line}
          maxLength={200}
          onInput={(e) => setLine((e.target as HTMLInputElement).value)}
        />
      </label>
      <ErrorNote error={error} />
      {saved && <p role="status">{t("admin.contact_saved")}</p>}
      <button type="submit">{t("admin.contact_save")}</button>
    </form>
  );
}
