"""Profile use cases: a lawyer's channels and backups, an organisation's escalation and duty.

Every contact is checked through its channel in the registry (`delivery/channels`): the
channel parses its address, says which optional fields it takes, refuses what it cannot use
and makes its secret. Nothing here names a channel but the `webhook`/`email` shorthand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.errors import InvalidInput
from services.alerts.alerts.domain import EscalationPolicy
from services.alerts.delivery.channels import Channel, Channels, email, webhook
from services.alerts.delivery.domain import LAWYER_ROLES, PGP_KEY, SECRET, ContactSpec
from services.alerts.delivery.health import repository as health
from services.alerts.delivery.health.domain import HealthRules, reachable, state
from services.alerts.delivery.profiles import repository as repo
from services.alerts.delivery.profiles.schemas import (
    ContactIn,
    EscalationIn,
    EscalationOut,
    LawyerContactIn,
    ProfileIn,
    ProfileOut,
)
from services.alerts.delivery.profiles.views import contact_out
from services.alerts.delivery.secrets import SecretBox
from services.alerts.watchlists import repository as watchlists


@dataclass
class Profiles:
    """Who gets told, how, and when the organisation escalates."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    channels: Channels
    clock: Clock
    rules: HealthRules = field(default_factory=HealthRules)

    async def get(self, principal: Principal) -> ProfileOut:
        """The caller's profile (secrets are never shown again), each contact's health and
        whether anything of theirs reaches them."""
        now = self.clock.now()
        async with self.sessions() as session:
            rows = await repo.lawyer_contacts(session, principal.client_id)
            language = await watchlists.language(session, principal.client_id)
            watching = await health.has_entries(session, principal.client_id)
        states = [state(r, self.rules, now) for r in rows if r["role"] in LAWYER_ROLES]
        return ProfileOut(
            client_id=principal.client_id,
            org_id=principal.partner_id,
            language=language or "en",
            contacts=[contact_out(r, self.rules, now) for r in rows],
            reachable=reachable(states, watching),
        )

    async def put(self, principal: Principal, body: ProfileIn) -> ProfileOut:
        """Replace the caller's channels; a generated webhook secret is returned this once."""
        wanted, now = self.wanted(body), self.clock.now()
        async with transaction(self.sessions) as session:
            await watchlists.ensure_lawyer(session, principal.client_id, principal.partner_id, now)
            await watchlists.set_language(session, principal.client_id, body.language, now)
            existing = await repo.lawyer_contacts(session, principal.client_id)
            secrets = await self.reconcile(
                session,
                existing,
                wanted,
                {"org_id": principal.partner_id, "lawyer_id": principal.client_id},
                now,
            )
            rows = await repo.lawyer_contacts(session, principal.client_id)
        return ProfileOut(
            client_id=principal.client_id,
            org_id=principal.partner_id,
            language=body.language,
            contacts=[contact_out(r, self.rules, now) for r in rows],
            new_secrets=secrets,
        )

    def wanted(self, body: ProfileIn) -> list[ContactSpec]:
        """The contacts a profile asks for, in order, each checked by its channel (InvalidInput)."""
        wanted: list[ContactSpec] = []
        if body.webhook is not None:
            w = body.webhook
            wanted.append(
                ContactSpec("primary", webhook.KIND, w.url, None, w.secret, w.rotate_secret)
            )
        if body.email is not None:
            e = body.email
            wanted.append(
                ContactSpec(
                    "secondary",
                    email.KIND,
                    e.address,
                    pgp_key=e.pgp_public_key,
                    drop_pgp_key=e.drop_pgp_key,
                )
            )
        wanted += [
            self._wanted("backup", c, f"backup_contacts.{i}")
            for i, c in enumerate(body.backup_contacts)
        ]
        wanted += [self._wanted(c.role, c, f"contacts.{i}") for i, c in enumerate(body.contacts)]
        if not any(w.role in LAWYER_ROLES for w in wanted):
            if body.contacts:
                raise InvalidInput(
                    "a profile needs a primary or a secondary contact",
                    fields=[{"path": "contacts", "reason": "missing"}],
                )
            raise InvalidInput(
                "a profile needs a webhook or an email address",
                fields=[{"path": "webhook", "reason": "missing"}],
            )
        self._validate(wanted)
        return wanted

    async def get_escalation(self, principal: Principal) -> EscalationOut:
        """The caller's organisation's escalation settings (defaults until someone sets them)."""
        async with self.sessions() as session:
            policy = await repo.policy(session, principal.partner_id)
            duty = await repo.duty_contacts(session, principal.partner_id)
        return _escalation_out(principal.partner_id, policy, duty, {})

    async def put_escalation(self, principal: Principal, body: EscalationIn) -> EscalationOut:
        """Set N, M, repeats and duty contacts for the caller's organisation."""
        wanted = self.duty_specs(body.duty_contacts, "duty_contacts")
        policy = EscalationPolicy(
            body.escalate_after_minutes,
            body.duty_after_minutes,
            body.repeat_every_minutes,
            body.max_repeats,
        )
        for attempt in range(2):
            try:
                now = self.clock.now()
                async with transaction(self.sessions) as session:
                    await repo.put_policy(
                        session, principal.partner_id, policy, principal.client_id, now
                    )
                    existing = await repo.duty_contacts(session, principal.partner_id)
                    owner = {"org_id": principal.partner_id, "lawyer_id": None}
                    secrets = await self.reconcile(session, existing, wanted, owner, now)
                    duty = await repo.duty_contacts(session, principal.partner_id)
                break
            except IntegrityError:
                if attempt:  # a concurrent first write of the same organisation: once more
                    raise
        return _escalation_out(principal.partner_id, policy, duty, secrets)

    def duty_specs(self, contacts: Sequence[ContactIn], path: str) -> list[ContactSpec]:
        """Duty contacts of a request, each checked by its channel (InvalidInput at `path.i`)."""
        wanted = [self._wanted("duty", c, f"{path}.{i}") for i, c in enumerate(contacts)]
        self._validate(wanted)
        return wanted

    def _channel(self, kind: str, path: str) -> Channel:
        channel = self.channels.get(kind)
        if channel is None:
            # Registered after this process built its channels: it cannot send through it.
            raise InvalidInput(
                "unknown channel kind", fields=[{"path": path, "reason": "not available"}]
            )
        return channel

    def _wanted(self, role: str, c: ContactIn, path: str) -> ContactSpec:
        """A contact of the request, its address parsed and its fields fitted by its channel."""
        channel = self._channel(c.channel, f"{path}.channel")
        try:
            address = channel.parse_address(c.address)
        except ValueError as exc:
            raise InvalidInput(
                "invalid contact address", fields=[{"path": f"{path}.address", "reason": str(exc)}]
            ) from None
        rotate = isinstance(c, LawyerContactIn) and c.rotate_secret
        given = {SECRET: c.secret is not None or rotate, PGP_KEY: c.pgp_public_key is not None}
        unfit = [name for name, present in given.items() if present and name not in channel.accepts]
        if unfit:
            raise InvalidInput(
                f"{' and '.join(unfit)} does not fit the {channel.kind} channel",
                fields=[{"path": path, "reason": "field does not fit the channel"}],
            )
        secret = c.secret
        if secret is not None:
            try:
                secret = channel.parse_secret(secret)
            except ValueError as exc:
                reason = {"path": f"{path}.secret", "reason": str(exc)}
                raise InvalidInput("invalid contact secret", fields=[reason]) from None
        return ContactSpec(
            role, c.channel, address, c.name, secret, rotate, c.pgp_public_key, c.drop_pgp_key
        )

    def _validate(self, wanted: Sequence[ContactSpec]) -> None:
        for w in wanted:
            self._channel(w.channel, "channel").check(w)

    async def reconcile(
        self,
        session: AsyncSession,
        existing: Sequence[RowMapping],
        wanted: Sequence[ContactSpec],
        owner: dict[str, Any],
        now: datetime,
    ) -> dict[str, str]:
        """Make `existing` what `wanted` says (kept contacts keep their ids and secrets); the
        secrets generated, by contact id."""
        by_key = {(r["role"], r["channel"], r["address"]): r for r in existing}
        keep: list[tuple[str, dict[str, Any]]] = []
        insert: list[dict[str, Any]] = []
        secrets: dict[str, str] = {}
        for position, w in enumerate(wanted):
            row = by_key.pop((w.role, w.channel, w.address), None)
            contact_id = row["id"] if row is not None else str(uuid.uuid4())
            values: dict[str, Any] = {
                "name": w.name,
                "pgp_key": _pgp_key(w, row),
                "key_expires_at": email.key_expiry(_pgp_key(w, row)),
                "position": position,
                # Saving the profile again is how a lawyer says a disabled endpoint works now.
                "disabled_at": None,
                "disabled_reason": None,
            }
            channel = self._channel(w.channel, "channel")
            if SECRET in channel.accepts and (row is None or w.secret or w.rotate):
                secret = w.secret or channel.new_secret()
                if secret is not None:
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
                        "created_at": now,
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


def _pgp_key(wanted: ContactSpec, row: RowMapping | None) -> str | None:
    """The key a saved contact keeps: the one given, else (unless dropped) the one it had."""
    if wanted.pgp_key is not None or row is None or wanted.drop_pgp_key:
        return wanted.pgp_key
    return cast(str | None, row["pgp_key"])
