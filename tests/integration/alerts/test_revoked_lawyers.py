"""A revoked or seized lawyer, or a disabled partner, is paged no more."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import select

from libs.common.auth.revocation import RevocationKind, revocation_event_data
from libs.common.events import new_event
from libs.common.subjects import AUTH_REVOKED
from services.alerts.delivery.models import Delivery
from services.alerts.delivery.profiles.models import Contact
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import Receiver, receiver, report_event, tokens_for, until

CONTACTS = Contact.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]


async def _lawyer(stack: AlertsStack, hook: Receiver, client_id: str, org: str) -> None:
    resp = await stack.call(
        "PUT", "/v1/lawyer/profile", client_id, org=org, json={"webhook": {"url": hook.url}}
    )
    hook.secret = next(iter(resp.json()["new_secrets"].values()))
    entry = {"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")}
    resp = await stack.call("POST", "/v1/watchlist/entries", client_id, org=org, json=entry)
    assert resp.status_code == 201, resp.text


async def _revoke(stack: AlertsStack, kind: RevocationKind, ident: str) -> None:
    data = revocation_event_data(kind, ident, time.time())
    await stack.publish(new_event(AUTH_REVOKED, "sharing", data, at=datetime.now(UTC)))


async def _disabled(stack: AlertsStack, **owner: str) -> bool:
    (column, value), c = next(iter(owner.items())), CONTACTS.c
    rows = await stack.db(select(c.disabled_reason).where(c[column] == value))
    return bool(rows) and all(r.disabled_reason == "revoked" for r in rows)


async def test_a_revoked_lawyer_gets_no_page_and_a_colleague_still_does(stack: AlertsStack) -> None:
    async with receiver() as seized, receiver() as colleague:
        await _lawyer(stack, seized, "lawyer-seized", "bar-1")
        await _lawyer(stack, colleague, "lawyer-2", "bar-1")
        await _revoke(stack, RevocationKind.CLIENT, "lawyer-seized")
        assert await until(lambda: _disabled(stack, lawyer_id="lawyer-seized"))

        await stack.publish(report_event(tokens_for("SKORIAKIN LEV", "14.03.1999")))
        assert await until(lambda: colleague.hits), "the colleague was not paged"
        await asyncio.sleep(1.0)  # what the worker would have sent by now
        assert seized.hits == []
        # The alert exists (the organisation's escalation still sees it); nothing went out.
        seized_ids = {r.id for r in await stack.db(select(CONTACTS.c.id).where(
            CONTACTS.c.lawyer_id == "lawyer-seized"))}  # fmt: skip
        sent = await stack.db(select(DELIVERIES.c.contact_id, DELIVERIES.c.status))
        assert not [d for d in sent if d.contact_id in seized_ids and d.status != "cancelled"]

        # Back with new keys, the lawyer saves the profile again: paged again.
        await _lawyer_again(stack, seized)
        assert not await _disabled(stack, lawyer_id="lawyer-seized")


async def _lawyer_again(stack: AlertsStack, hook: Receiver) -> None:
    resp = await stack.call(
        "PUT", "/v1/lawyer/profile", "lawyer-seized", json={"webhook": {"url": hook.url}}
    )
    assert resp.status_code == 200, resp.text


async def test_a_disabled_partner_loses_every_endpoint_and_a_key_revocation_none(
    stack: AlertsStack,
) -> None:
    async with receiver() as hook, receiver() as other:
        await _lawyer(stack, hook, "lawyer-1", "bar-1")
        await _lawyer(stack, other, "lawyer-9", "bar-9")
        await _revoke(stack, RevocationKind.CLIENT_KEY, "a" * 43)
        await _revoke(stack, RevocationKind.ORG, "bar-1")
        assert await until(lambda: _disabled(stack, org_id="bar-1"))
        assert not await _disabled(stack, org_id="bar-9")
