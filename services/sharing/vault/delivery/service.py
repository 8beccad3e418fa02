"""Sealed delivery: partners' HPKE keys, reads sealed to them, signed by sharing (Ed25519)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode, canonical_json
from libs.common.crypto.hpke_keys import load_public_key
from libs.common.crypto.signing import DELIVERY_PURPOSE, SigningKey, sealed_delivery_payload, sign
from libs.common.db import transaction
from libs.common.errors import Conflict, NotFound
from services.sharing.audit import repository as audit_log
from services.sharing.vault.delivery import repository as drepo
from services.sharing.vault.delivery.keystore import DeliverySigner
from services.sharing.vault.service import ReadService

MAX_KEYS_PER_PARTNER = 10
DELIVERY_FORMAT = "lifeline-delivery/v1"


def seal_view(
    view: dict[str, Any], *, recipient_id: str, public_key: str, signer: SigningKey
) -> dict[str, Any]:
    """Seal a read to a partner's key under a fresh delivery id and sign the result."""
    report_id = str(view["report_id"])
    delivery_id = str(uuid.uuid4())
    key = load_public_key(public_key)
    plaintext = canonical_json(
        {
            "format": DELIVERY_FORMAT,
            "recipient": recipient_id,
            "report_id": report_id,
            "delivery_id": delivery_id,
            "view": view,
        }
    )
    info = hpke.delivery_info(
        recipient_id=recipient_id, report_id=report_id, delivery_id=delivery_id
    )
    sealed = hpke.seal(key, plaintext, info)
    payload = sealed_delivery_payload(
        recipient_id=recipient_id, report_id=report_id, delivery_id=delivery_id, sealed=sealed
    )
    return {
        "format": DELIVERY_FORMAT,
        "recipient": recipient_id,
        "report_id": report_id,
        "delivery_id": delivery_id,
        "sealed_to": b64u_encode(key.key_id),
        "suite": key.suite.label,
        "sealed": b64u_encode(sealed),
        "signature": b64u_encode(sign(signer, payload, purpose=DELIVERY_PURPOSE)),
        "signer_kid": b64u_encode(signer.key_id),
    }


def _key_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kid": row["kid"],
        "suite": row["suite"],
        "public_key": row["public_key"],
        "fingerprint": row["fingerprint"],
        "created_at": row["created_at"],
        "revoked_at": row.get("revoked_at"),
    }


class DeliveryKeys:
    """The HPKE public keys partners register so that reads can be sealed to them."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def register(self, principal: Principal, text: str) -> dict[str, Any]:
        """Register a public key for the caller's partner (InvalidKey for anything else)."""
        key = load_public_key(text)  # refuses private keys, unknown suites, bad lengths
        kid, now = b64u_encode(key.key_id), self.clock.now()
        values = {
            "kid": kid,
            "partner_id": principal.partner_id,
            "suite": key.suite.label,
            "public_key": key.text,
            "fingerprint": key.fingerprint(),
            "created_at": now,
            "created_by": principal.client_id,
        }
        try:
            async with transaction(self.sessions) as session:
                active = await drepo.delivery_keys(session, principal.partner_id)
                if len(active) >= MAX_KEYS_PER_PARTNER:
                    raise Conflict(f"at most {MAX_KEYS_PER_PARTNER} keys: revoke an old one first")
                await drepo.insert_delivery_key(session, values)
                await audit_log.append(
                    session,
                    actor=principal.client_id,
                    action="delivery_key.add",
                    target=kid,
                    details={"partner": principal.partner_id, "suite": key.suite.label},
                    now=now,
                )
        except IntegrityError:
            raise Conflict("this key is already registered") from None
        return _key_view(values)

    async def list_keys(
        self, principal: Principal, after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """The caller's partner's active keys, oldest first, after the position `after`."""
        async with self.sessions() as session:
            rows = await drepo.delivery_keys(
                session, principal.partner_id, after=after, limit=limit
            )
        return [_key_view(r) for r in rows]

    async def revoke(self, principal: Principal, kid: str) -> None:
        """Stop sealing to one of the caller's partner's keys."""
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            if not await drepo.revoke_delivery_key(session, principal.partner_id, kid, now):
                raise NotFound("no such key")
            await audit_log.append(
                session,
                actor=principal.client_id,
                action="delivery_key.revoke",
                target=kid,
                details={"partner": principal.partner_id},
                now=now,
            )

    async def key_for(self, principal: Principal, kid: str) -> str:
        """The public key text of one of the caller's partner's keys; another's is not found."""
        async with self.sessions() as session:
            row = await drepo.delivery_key(session, principal.partner_id, kid)
        if row is None:
            raise NotFound("no such delivery key")
        return str(row["public_key"])


class SealedReads:
    """Reads sealed to one of the reader's partner's delivery keys and signed by sharing."""

    def __init__(self, reads: ReadService, keys: DeliveryKeys, signer: DeliverySigner) -> None:
        self.reads = reads
        self.keys = keys
        self.signer = signer

    async def get(self, principal: Principal, report_id: str, kid: str) -> dict[str, Any]:
        """One report as `ReadService.get` shows it, sealed to `kid`; audited as a sealed read."""
        public_key = await self.keys.key_for(principal, kid)
        view, release = await self.reads.load(principal, report_id)
        delivery = seal_view(
            view,
            recipient_id=principal.partner_id,
            public_key=public_key,
            signer=self.signer.active(),
        )
        await self.reads.record(
            principal,
            [release],
            via="sealed",
            delivery_id=delivery["delivery_id"],
            sealed_to=kid,
        )
        return delivery
