/** Administration's sections, for an operator: partners, sharing policies, the audit log,
seizures, approvals and the vault's keys. */

import { t } from "../../i18n/index.ts";

const SECTIONS = [
  { href: "/admin/partners", label: "admin.partners", pages: ["admin", "partners", "partner", "client"] },
  { href: "/admin/policies", label: "policy.nav", pages: ["policies"] },
  { href: "/admin/audit", label: "audit.nav", pages: ["audit"] },
  { href: "/admin/seizures", label: "seize.nav", pages: ["seizures", "seizure"] },
  { href: "/admin/approvals", label: "approval.nav", pages: ["approvals", "approval"] },
  { href: "/admin/vault", label: "vault.nav", pages: ["vault"] },
];

export function AdminNav({ page }: { page: string }) {
  return (
    <nav class="subnav" aria-label={t("policy.admin_sections")}>
      {SECTIONS.map((s) => (
        <a key={s.href} href={s.href} aria-current={s.pages.includes(page) ? "page" : undefined}>
          {t(s.label)}
        </a>
      ))}
    </nav>
  );
}
