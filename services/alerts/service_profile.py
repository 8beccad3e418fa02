"""Profile use cases: a lawyer's channels and backups, an organisation's escalation and duty."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.db import transaction
from libs.common.errors import InvalidInput
from libs.common.inbox import utcnow
from services.alerts import repo_profile as repo
from services.alerts import repo_watchlist
from services.alerts.domain import EscalationPolicy
from services.alerts.keys import SecretBox
from services.alerts.schemas import (
    ContactIn,
    ContactOut,
    EscalationIn,
    EscalationOut,
    ProfileIn,
    ProfileOut,
    valid_email,
    valid_url,
)
from services.alerts.webhook import check_url, generate_secret


@dataclass(frozen=True)
class Wanted:
    """One contact a profile asks for."""

    role: str
    channel: str
    address: str
    name: str | None = None
    secret: str | None = None
    rotate: bool = False
    pgp_key: str | None = None


def contact_out(row: RowMapping) -> ContactOut:
    """The API view of a contact: never its secret."""
    return ContactOut(
        id=row["id"],
        role=row["role"],
        channel=row["channel"],
        address=row["address"],
        name=row["name"],
        encrypted=bool(row["pgp_key"]),
        disabled=row["disabled_at"] is not None,
        disabled_reason=row["disabled_reason"],
    )


@dataclass
class Profiles:
    """Who gets told, how, and when the organisation escalates."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    allow_private_webhooks: bool
    check_pgp_key: Callable[[str], None]

    async def get(self, principal: Principal) -> ProfileOut:
        """The caller's profile (secrets are never shown again)."""
        async with self.sessions() as session:
            rows = await repo.lawyer_contacts(session, principal.client_id)
        return ProfileOut(
            client_id=principal.client_id,
            org_id=principal.org,
            contacts=[contact_out(r) for r in rows],
        )

    async def put(self, principal: Principal, body: ProfileIn) -> ProfileOut:
        """Replace the caller's channels; a generated webhook secret is returned this once."""
        wanted: list[Wanted] = []
        if body.webhook is not None:
            w = body.webhook
            wanted.append(Wanted("primary", "webhook", w.url, None, w.secret, w.rotate_secret))
        if body.email is not None:
            e = body.email
            wanted.append(Wanted("secondary", "email", e.address, pgp_key=e.pgp_public_key))
        wanted += [
            self._wanted("backup", c, f"backup_contacts.{i}")
            for i, c in enumerate(body.backup_contacts)
        ]
        if body.webhook is None and body.email is None:
            raise InvalidInput(
                "a profile needs a webhook or an email address",
                fields=[{"path": "webhook", "reason": "missing"}],
            )
        self._validate(wanted)
        async with transaction(self.sessions) as session:
            await repo_watchlist.ensure_lawyer(session, principal.client_id, principal.org)
            existing = await repo.lawyer_contacts(session, principal.client_id)
            secrets = await self._reconcile(
                session,
                existing,
                wanted,
                {"org_id": principal.org, "lawyer_id": principal.client_id},
            )
            rows = await repo.lawyer_contacts(session, principal.client_id)
        return ProfileOut(
            client_id=principal.client_id,
            org_id=principal.org,
            contacts=[contact_out(r) for r in rows],
            new_secrets=secrets,
        )

    async def get_escalation(self, principal: Principal) -> EscalationOut:
        """The caller's organisation's escalation settings (defaults until someone sets them)."""
        async with self.sessions() as session:
            policy = await repo.policy(session, principal.org)
            duty = await repo.duty_contacts(session, principal.org)
        return _escalation_out(principal.org, policy, duty, {})

    async def put_escalation(self, principal: Principal, body: EscalationIn) -> EscalationOut:
        """Set N, M, repeats and duty contacts for the caller's organisation."""
        wanted = [
            self._wanted("duty", c, f"duty_contacts.{i}") for i, c in enumerate(body.duty_contacts)
        ]
        self._validate(wanted)
        policy = EscalationPolicy(
            body.escalate_after_minutes,
            body.duty_after_minutes,
            body.repeat_every_minutes,
            body.max_repeats,
        )
        for attempt in range(2):
            try:
                async with transaction(self.sessions) as session:
                    await repo.put_policy(session, principal.org, policy, principal.client_id)
                    existing = await repo.duty_contacts(session, principal.org)
                    secrets = await self._reconcile(
                        session, existing, wanted, {"org_id": principal.org, "lawyer_id": None}
                    )
                    duty = await repo.duty_contacts(session, principal.org)
                break
            except IntegrityError:
                if attempt:  # a concurrent first write of the same organisation: once more
                    raise
        return _escalation_out(principal.org, policy, duty, secrets)

    def _wanted(self, role: str, c: ContactIn, path: str) -> Wanted:
        try:
            address = valid_url(c.address) if c.channel == "webhook" else valid_email(c.address)
        except ValueError as exc:
            raise InvalidInput(
                "invalid contact address", fields=[{"path": f"{path}.address", "reason": str(exc)}]
            ) from None
        if (c.channel == "email" and c.secret) or (c.channel == "webhook" and c.pgp_public_key):
            raise InvalidInput(
                "secret is for webhooks, pgp_public_key for email",
                fields=[{"path": path, "reason": "field does not fit the channel"}],
            )
        return Wanted(role, c.channel, address, c.name, c.secret, pgp_key=c.pgp_public_key)

    def _validate(self, wanted: Sequence[Wanted]) -> None:
        for w in wanted:
            if w.channel == "webhook":
                check_url(w.address, self.allow_private_webhooks)
            if w.pgp_key:
                self.check_pgp_key(w.pgp_key)

    async def _reconcile(
        self,
        session: AsyncSession,
        existing: Sequence[RowMapping],
        wanted: Sequence[Wanted],
        owner: dict[str, Any],
    ) -> dict[str, str]:
        by_key = {(r["role"], r["channel"], r["address"]): r for r in existing}
        keep: list[tuple[str, dict[str, Any]]] = []
        insert: list[dict[str, Any]] = []
        secrets: dict[str, str] = {}
        for position, w in enumerate(wanted):
            row = by_key.pop((w.role, w.channel, w.address), None)
            contact_id = row["id"] if row is not None else str(uuid.uuid4())
            values: dict[str, Any] = {
                "name": w.name,
                "pgp_key": w.pgp_key,
                "position": position,
                # Saving the profile again is how a lawyer says a disabled endpoint works now.
                "disabled_at": None,
                "disabled_reason": None,
            }
            if w.channel == "webhook" and (row is None or w.secret or w.rotate):
                secret = w.secret or generate_secret()
                if not w.secret:
                    secrets[contact_id] = secret
                values["secret"] = self.box.seal(contact_id, secret)
            if row is not None:
                keep.append((contact_id, values))
            else:
                insert.append(
                    {
                        "id": contact_id,
                        **owner,
                        "role": w.role,
                        "channel": w.channel,
                        "address": w.address,
                        "secret": None,
                        "created_at": utcnow(),
                        **values,
                    }
                )
        await repo.replace_contacts(session, keep, insert, [r["id"] for r in by_key.values()])
        return secrets


def _escalation_out(
    org_id: str, policy: EscalationPolicy, duty: Sequence[RowMapping], secrets: dict[str, str]
) -> EscalationOut:
    return EscalationOut(
        org_id=org_id,
        escalate_after_minutes=policy.escalate_after_min,
        duty_after_minutes=policy.duty_after_min,
        repeat_every_minutes=policy.repeat_every_min,
        max_repeats=policy.max_repeats,
        duty_contacts=[contact_out(r) for r in duty],
        new_secrets=secrets,
    )
