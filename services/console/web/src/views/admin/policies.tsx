/** Sharing policies (operators only): a partner's policy for one role, edited as its JSON
document, previewed against the saved one (sharing's diff route checks it strictly and returns
the canonical form; what changes, and for whom, is worked out here in the reader's language),
and only then saved — or asked for, when a second operator must approve. */

import { useEffect, useState } from "preact/hooks";
import { ApiError, call, callAll } from "../../api.ts";
import { t, when } from "../../i18n/index.ts";
import { ErrorNote, Text } from "../common.tsx";
import { Heading } from "../heading.tsx";
import { AwaitingApproval } from "./awaiting.tsx";
import { type Partner, type Pending, path } from "./model.ts";
import {
  diffPolicies,
  effects,
  emptyPolicy,
  POLICY_ROLES,
  type PolicyDocument,
  type StoredPolicy,
} from "./policy-model.ts";
import { type Preview, PreviewView } from "./policy-preview.tsx";

export function Policies({ partner }: { partner: string | null }) {
  const [partners, setPartners] = useState<Partner[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [role, setRole] = useState<string>("lawyer");

  useEffect(() => {
    callAll<Partner>("sharing", "/v1/admin/partners").then(setPartners, setError);
  }, []);

  const choose = (id: string) => {
    history.replaceState(null, "", id ? `/admin/policies/${path(id)}` : "/admin/policies");
    dispatchEvent(new PopStateEvent("popstate"));
  };

  return (
    <section class="admin">
      <Heading>{t("policy.title")}</Heading>
      <p class="muted">{t("policy.hint")}</p>
      <ErrorNote error={error} />
      <div class="stack">
        <label>
          {t("policy.partner")}
          <select
            name="partner"
            value={partner ?? ""}
            onChange={(e) => choose((e.target as HTMLSelectElement).value)}
          >
            <option value="">{t("policy.partner_choose")}</option>
            {(partners ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("policy.role")}
          <select
            name="role"
            value={role}
            onChange={(e) => setRole((e.target as HTMLSelectElement).value)}
          >
            {POLICY_ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`policy.role.${r}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {partner && <PolicyEditor key={`${partner}/${role}`} partner={partner} role={role} />}
    </section>
  );
}

function PolicyEditor({ partner, role }: { partner: string; role: string }) {
  const [saved, setSaved] = useState<StoredPolicy | null | undefined>(undefined);
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [syntax, setSyntax] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<{ id: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const stored = async (): Promise<StoredPolicy | null> => {
    const url = `/v1/admin/policies/${path(partner)}?role=${encodeURIComponent(role)}`;
    const answer = await call<{ policies: StoredPolicy[] }>("sharing", url);
    return answer.policies[0] ?? null;
  };

  const load = async () => {
    const current = await stored();
    setSaved(current);
    setText(JSON.stringify(current?.document ?? emptyPolicy(partner, role), null, 2));
  };

  useEffect(() => {
    load().catch(setError);
  }, [partner, role]);

  const edit = (value: string) => {
    setText(value);
    setPreview(null); // what was previewed is no longer what would be saved
    setNote(null);
    setWaiting(null);
  };

  const previewChange = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSyntax(null);
    setNote(null);
    setWaiting(null);
    setPreview(null);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (failure) {
      setSyntax(String((failure as Error).message));
      return;
    }
    setBusy(true);
    try {
      const url = `/v1/admin/policies/${path(partner)}/diff`;
      const [answer, current] = await Promise.all([
        call<{ policy: PolicyDocument }>("sharing", url, { method: "POST", body: document }),
        // Compared with the policy saved now: another operator may have saved one meanwhile.
        stored(),
      ]);
      if ((current?.version ?? 0) !== (saved?.version ?? 0)) {
        setSaved(current);
        setNote(t("policy.changed_meanwhile", { version: current?.version ?? 0 }));
      }
      const before = current?.document ?? emptyPolicy(partner, role);
      const policy = answer.policy;
      setPreview({
        policy,
        changes: diffPolicies(before, policy),
        effects: effects(before, policy),
      });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await call<{ version?: number } & Partial<Pending>>(
        "sharing",
        `/v1/admin/policies/${path(partner)}`,
        { method: "PUT", body: preview.policy },
      );
      if (answer.approval) {
        setWaiting(answer.approval);
        setNote(t("policy.pending"));
        setPreview(null);
      } else {
        await load();
        setPreview(null);
        setNote(t("policy.saved", { version: answer.version ?? "" }));
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (saved === undefined) {
    return error ? <ErrorNote error={error} /> : <p class="muted">{t("common.loading")}</p>;
  }
  const fields = error instanceof ApiError ? error.fields : [];
  return (
    <div class="policy" data-policy-role={role}>
      <h2>{t(`policy.role.${role}`)}</h2>
      <p class="muted" data-policy-version={saved?.version ?? 0}>
        {saved
          ? t("policy.saved_version", {
              version: saved.version,
              by: saved.updated_by,
              at: when(saved.updated_at),
            })
          : t("policy.none")}
      </p>
      <form class="stack" onSubmit={previewChange}>
        <label>
          {t("policy.document")}
          <textarea
            name="document"
            class="code"
            rows={18}
            spellcheck={false}
            aria-describedby="policy-document-hint"
            aria-invalid={syntax !== null || fields.length > 0}
            value={text}
            onInput={(e) => edit((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <p id="policy-document-hint" class="muted small">
          {t("policy.document_hint")}
        </p>
        {syntax && (
          <p class="error" role="alert">
            {t("policy.not_json", { detail: syntax })}
          </p>
        )}
        {error !== null && <ErrorNote error={error} />}
        {fields.length > 0 && (
          <ul class="field-errors" aria-label={t("policy.field_errors")}>
            {fields.map((f) => (
              <li key={`${f.path}:${f.reason}`} data-error-path={f.path}>
                <code>{f.path || t("policy.whole_document")}</code>: <Text value={f.reason} />
              </li>
            ))}
          </ul>
        )}
        <button type="submit" disabled={busy}>
          {busy && !preview ? t("common.working") : t("policy.preview")}
        </button>
      </form>
      {waiting && <AwaitingApproval approval={waiting} />}
      {note && <p role="status">{note}</p>}
      {preview && <PreviewView preview={preview} busy={busy} onSave={save} />}
    </div>
  );
}
