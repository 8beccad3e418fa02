"""Administering policies: show, set (audited, with the diff), diff, and explain a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.errors import Conflict, InvalidInput, NotFound
from services.sharing.access import repository as registry
from services.sharing.audit import repository as audit_log
from services.sharing.vault import repository as vrepo
from services.sharing.vault.domain import meta_of
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.policy.document import diff_policies, dump_policy, parse_policy
from services.sharing.vault.policy.domain import FIELDS, Policy, Reader, decide, explain


def _parse_for(partner_id: str, document: object) -> Policy:
    policy = parse_policy(document)
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
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def show(self, partner_id: str, role: str | None) -> list[dict[str, Any]]:
        """A partner's policies (all roles, or one: `*` is the partner-wide policy)."""
        async with self.sessions() as session:
            return await prepo.policy_documents(session, partner_id, role)

    async def _current(self, session: AsyncSession, policy: Policy) -> Policy:
        docs = await prepo.policy_documents(session, policy.partner, _role_key(policy.role))
        if not docs:
            return Policy(partner=policy.partner, role=policy.role, grants=())
        return parse_policy(docs[0]["document"])

    async def diff(self, partner_id: str, document: object) -> dict[str, Any]:
        """What setting `document` would change (nothing is stored)."""
        policy = _parse_for(partner_id, document)
        async with self.sessions() as session:
            current = await self._current(session, policy)
        return {"policy": dump_policy(policy), "changes": diff_policies(current, policy)}

    async def put(self, actor: str, partner_id: str, document: object) -> dict[str, Any]:
        """Replace the policy of (partner, role); the audit entry records what changed."""
        policy = _parse_for(partner_id, document)
        canonical = dump_policy(policy)
        now = self.clock.now()
        async with self.sessions() as session:
            if await registry.get_partner(session, partner_id) is None:
                raise NotFound("no such partner")
        try:
            async with transaction(self.sessions) as session:
                current = await self._current(session, policy)
                version = await prepo.put_policy(session, canonical, actor, now)
                changes = diff_policies(current, policy)
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
            policies = await prepo.policies_for(session, partner_id)
            grants = await prepo.grants_to(session, partner_id, [report_id])
        meta = meta_of(row)
        lines = explain(reader, meta, field, policies, grants)
        decision = decide(reader, meta, policies, grants)
        return {
            "lines": lines,
            "visible": decision.visible,
            "fields": [f for f in FIELDS if f in decision.fields],
            "erased": row.erased_at is not None,
        }
