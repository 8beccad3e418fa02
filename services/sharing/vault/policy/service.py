"""Who may read: policies (show, set with the diff, diff, explain) and per-report grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.errors import Conflict, Gone, InvalidInput, NotFound
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.access import repository as registry
from services.sharing.audit import repository as audit_log
from services.sharing.vault import repository as vrepo
from services.sharing.vault.domain import grant_row, meta_of, new_grant
from services.sharing.vault.erasure import ReportActions
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.policy.document import diff_policies, dump_policy, parse_policy
from services.sharing.vault.policy.domain import Policy, Reader, check_grant_fields, decide
from services.sharing.vault.policy.explain import explain


def _parse_for(partner_id: str, document: object, catalogue: Catalogue) -> Policy:
    policy = parse_policy(document, catalogue)
    if policy.partner != partner_id:
        raise InvalidInput(
            "the document is for another partner",
            fields=[{"path": "partner", "reason": f"must be {partner_id}"}],
        )
    return policy


def _role_key(role: str | None) -> str:
    return prepo.EVERY_ROLE if role is None else role


class PolicyAdmin:
    """The policy documents of reading partners, as the admin API and CLI use them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.catalogue = catalogue
        self.clock = clock

    async def show(self, partner_id: str, role: str | None) -> list[dict[str, Any]]:
        """A partner's policies (all roles, or one: `*` is the partner-wide policy)."""
        async with self.sessions() as session:
            return await prepo.policy_documents(session, partner_id, role)

    async def _current(self, session: AsyncSession, policy: Policy) -> Policy:
        docs = await prepo.policy_documents(session, policy.partner, _role_key(policy.role))
        if not docs:
            return Policy(partner=policy.partner, role=policy.role, grants=())
        return parse_policy(docs[0]["document"], self.catalogue)

    async def diff(self, partner_id: str, document: object) -> dict[str, Any]:
        """What setting `document` would change (nothing is stored)."""
        policy = _parse_for(partner_id, document, self.catalogue)
        async with self.sessions() as session:
            current = await self._current(session, policy)
        changes = diff_policies(current, policy, self.catalogue)
        return {"policy": dump_policy(policy, self.catalogue), "changes": changes}

    async def put(self, actor: str, partner_id: str, document: object) -> dict[str, Any]:
        """Replace the policy of (partner, role); the audit entry records what changed."""
        policy = _parse_for(partner_id, document, self.catalogue)
        canonical = dump_policy(policy, self.catalogue)
        now = self.clock.now()
        async with self.sessions() as session:
            if await registry.get_partner(session, partner_id) is None:
                raise NotFound("no such partner")
        try:
            async with transaction(self.sessions) as session:
                current = await self._current(session, policy)
                version = await prepo.put_policy(session, canonical, actor, now)
                changes = diff_policies(current, policy, self.catalogue)
                await audit_log.append(
                    session,
                    actor=actor,
                    action="policy.set",
                    target=f"{partner_id}/{_role_key(policy.role)}",
                    details={"version": version, "changes": changes},
                    now=now,
                )
        except IntegrityError:
            # Two administrators created the same policy at once (PostgreSQL): one wins.
            raise Conflict("the policy was changed at the same time: show it and retry") from None
        return {"policy": canonical, "version": version, "changes": changes}

    async def explain(
        self, partner_id: str, role: str | None, report_id: str, field: str
    ) -> dict[str, Any]:
        """Why partner X (with a role) can or cannot see field Y of report Z."""
        reader = Reader(partner=partner_id, role=role)
        async with self.sessions() as session:
            row = await vrepo.get_report(session, report_id)
            if row is None:
                raise NotFound("no such report")
            policies = await prepo.policies_for(session, partner_id, self.catalogue)
            grants = await prepo.grants_to(session, partner_id, [report_id], self.catalogue)
        meta = meta_of(row)
        lines = explain(reader, meta, field, policies, grants, catalogue=self.catalogue)
        decision = decide(reader, meta, policies, grants, catalogue=self.catalogue)
        return {
            "lines": lines,
            "visible": decision.visible,
            "fields": [f for f in self.catalogue.grantable if f in decision.fields],
            "erased": row.erased_at is not None,
        }


class ReportGrants:
    """Grants of one report to another partner: the only way TLP:RED leaves its submitter."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        reports: ReportActions,
        *,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.reports = reports
        self.catalogue = catalogue
        self.clock = clock

    async def grant(
        self,
        principal: Principal,
        report_id: str,
        *,
        partner_id: str,
        fields: list[str],
        role: str | None,
    ) -> dict[str, Any]:
        """Give one partner (optionally one role) these fields of this report, RED included."""
        check_grant_fields(fields, self.catalogue)  # a bad body is a 422 before anything else
        row = await self.reports.owned(principal, report_id)
        if row.erased_at is not None:
            raise Gone("the report was erased")
        if partner_id == row.partner_id:
            raise InvalidInput(
                "the submitting partner already reads its reports in full",
                fields=[{"path": "partner_id", "reason": "is the submitter"}],
            )
        grant = new_grant(report_id, partner_id, fields, role, catalogue=self.catalogue)
        ordered = [f for f in self.catalogue.grantable if f in grant.fields]
        now = self.clock.now()
        async with self.sessions() as session:
            if await registry.get_partner(session, partner_id) is None:
                raise InvalidInput(
                    "no such partner", fields=[{"path": "partner_id", "reason": "unknown"}]
                )
        values = grant_row(grant, ordered, principal.client_id, now)
        async with transaction(self.sessions) as session:
            await vrepo.begin_report_write(session)
            await prepo.insert_grant(session, values)
            # The report's visibility changed: move it up the sync order for the grantee.
            await vrepo.touch(session, report_id, now)
            await audit_log.append(
                session,
                actor=principal.client_id,
                action="report.grant",
                target=report_id,
                details={
                    "grant_id": grant.id,
                    "partner": partner_id,
                    "role": role,
                    "fields": ordered,
                },
                now=now,
            )
        return {**values, "fields": ordered, "created_at": now.isoformat()}

    async def grants(
        self,
        principal: Principal,
        report_id: str,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The per-report grants of a report (submitter and administrators only)."""
        await self.reports.owned(principal, report_id)
        async with self.sessions() as session:
            rows = await prepo.grants_of_report(session, report_id, after, limit)
        return [{**r, "fields": r["fields"].split()} for r in rows]
