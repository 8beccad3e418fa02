/** A policy change before it is saved: what changes grant by grant, and what that means for
whom, in the reader's language (sharing's own diff lines stay what the audit log records). */

import { t } from "../../i18n/index.ts";
import { word } from "../common.tsx";
import type { Change, Effect, PolicyDocument } from "./policy-model.ts";

/** A checked policy and how it differs from the saved one. */
export interface Preview {
  policy: PolicyDocument;
  changes: Change[];
  effects: Effect[];
}

export function PreviewView(props: { preview: Preview; busy: boolean; onSave: () => void }) {
  const { preview } = props;
  const who = t(`policy.who.${preview.policy.role ?? "*"}`, { partner: preview.policy.partner });
  return (
    <section class="preview" aria-labelledby="policy-preview">
      <h3 id="policy-preview">{t("policy.preview_title")}</h3>
      {preview.changes.length === 0 ? (
        <p>{t("policy.no_change")}</p>
      ) : (
        <>
          <h4>{t("policy.changes")}</h4>
          <ul class="diff" data-policy-diff>
            {preview.changes.map((c, i) => (
              <li key={i} class={changeClass(c)}>
                {changeText(c)}
              </li>
            ))}
          </ul>
          <h4>{t("policy.effects")}</h4>
          <ul class="effects" data-policy-effects>
            {preview.effects.map((e, i) => (
              <li key={i} class={e.gains ? "added" : "removed"}>
                {effectText(who, e)}
              </li>
            ))}
          </ul>
        </>
      )}
      <button
        type="button"
        class="primary"
        disabled={props.busy || preview.changes.length === 0}
        onClick={props.onSave}
      >
        {props.busy ? t("common.working") : t("policy.save")}
      </button>
    </section>
  );
}

function changeClass(c: Change): string {
  if (c.kind === "grant_added") return "added";
  if (c.kind === "grant_removed") return "removed";
  if (c.kind === "tlp") return c.raised ? "added" : "removed";
  return "changed";
}

/** A value of one kind (a field, an incident type …) in the reader's language; `*` is "any". */
function valueText(what: string, value: string): string {
  if (value === "*") return t("policy.any");
  if (what === "fields") return `${t(`field.${value}`)} (${value})`;
  if (what === "incident_types") return word("incident", value);
  if (what === "legal_bases") return word("basis", value);
  return value;
}

function list(what: string, values: string[]): string {
  return values.map((v) => valueText(what, v)).join(", ");
}

function grantText(g: PolicyDocument["grants"][number]): string {
  return t("policy.grant_scope", {
    fields: list("fields", g.fields),
    from: list("from", g.from),
    types: list("incident_types", g.incident_types),
    countries: list("countries", g.countries),
    bases: list("legal_bases", g.legal_bases),
    tlp: g.max_tlp,
  });
}

function changeText(c: Change): string {
  switch (c.kind) {
    case "grant_added":
      return t("policy.grant_added", { id: c.grant.id, scope: grantText(c.grant) });
    case "grant_removed":
      return t("policy.grant_removed", { id: c.grant.id, scope: grantText(c.grant) });
    case "values": {
      const parts = [];
      const what = t(`policy.cond.${c.what}`);
      if (c.added.length) {
        parts.push(
          t("policy.values_added", { id: c.grant, what, values: list(c.what, c.added) }),
        );
      }
      if (c.removed.length) {
        parts.push(
          t("policy.values_removed", { id: c.grant, what, values: list(c.what, c.removed) }),
        );
      }
      return parts.join(" ");
    }
    case "widened":
      return t("policy.values_changed", {
        id: c.grant,
        what: t(`policy.cond.${c.what}`),
        before: list(c.what, c.before),
        after: list(c.what, c.after),
      });
    case "tlp":
      return t(c.raised ? "policy.tlp_raised" : "policy.tlp_lowered", {
        id: c.grant,
        before: c.before,
        after: c.after,
      });
  }
}

function effectText(who: string, e: Effect): string {
  const values = {
    who,
    fields: list("fields", e.fields),
    from: list("from", e.grant.from),
    types: list("incident_types", e.grant.incident_types),
    countries: list("countries", e.grant.countries),
    bases: list("legal_bases", e.grant.legal_bases),
    tlp: e.grant.max_tlp,
  };
  return t(e.gains ? "policy.effect_gains" : "policy.effect_loses", values);
}
