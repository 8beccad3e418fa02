/** One client: its role and status, revoking it, its enrolment codes and its devices' keys. */

import { useEffect, useState } from "preact/hooks";
import { call, currentSession } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Row, Text, word } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { Enrolments } from "./enrolments.tsx";
import { Keys } from "./keys.tsx";
import { Seize } from "./seize.tsx";
import { type Client, path } from "./model.ts";

export function ClientView({ id }: { id: string }) {
  const operator = currentSession()?.scopes().has("admin") ?? false;
  const [client, setClient] = useState<Client | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Bumped when a code is used or a key changes, so both lists read the server again.
  const [version, setVersion] = useState(0);

  useEffect(() => {
    call<Client>("sharing", `/v1/admin/clients/${path(id)}`).then(setClient, setError);
  }, [id]);

  const revoke = async () => {
    if (!client || !confirm(t("admin.client_revoke_confirm", { name: client.name }))) return;
    try {
      const revoked = `/v1/admin/clients/${path(id)}/revoke`;
      setClient(await call<Client>("sharing", revoked, { method: "POST" }));
      setVersion((v) => v + 1);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="admin">
      {client && (
        <p>
          <a href={`/admin/partners/${path(client.partner_id)}`}>{t("admin.back_partner")}</a>
        </p>
      )}
      <Heading>{client ? <Text value={client.name} /> : t("admin.client")}</Heading>
      <ErrorNote error={error} />
      {client && (
        <dl>
          <Row label={t("admin.id")}>
            <code>{client.id}</code>
          </Row>
          <Row label={t("admin.role")}>{word("client_role", client.role)}</Row>
          <Row label={t("admin.scopes")}>
            {client.scopes.map((s) => word("scope", s)).join(", ")}
          </Row>
          <Row label={t("admin.status")}>{word("client_status", client.status)}</Row>
          <Row label={t("admin.created")}>{when(client.created_at)}</Row>
        </dl>
      )}
      {client?.status === "active" && (
        <p>
          <button type="button" class="danger" onClick={revoke}>
            {t("admin.client_revoke")}
          </button>
        </p>
      )}
      {client?.status === "active" && operator && (
        <Seize kind="client" id={client.id} name={client.name} />
      )}
      {client && (
        <>
          <Enrolments
            clientId={id}
            active={client.status === "active"}
            version={version}
            onChange={() => setVersion((v) => v + 1)}
          />
          <Keys clientId={id} version={version} onChange={() => setVersion((v) => v + 1)} />
        </>
      )}
    </section>
  );
}
