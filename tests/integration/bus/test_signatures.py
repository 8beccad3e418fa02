"""Forged events change nothing: every consumer proves an event's producer before acting on it.

The bus here has one more user than `lifeline up` configures, allowed to publish anything and
read every stream: a compromised bus, or stolen credentials that the permissions alone would
not have stopped. With it, and with a producing service's stolen signing key, the attacker
forges the three events of the threat model: a revocation that would lock every user of a
partner out, a report labelled as another partner's that would page a lawyer, and an erasure
that would withdraw a real alert.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from libs.common.events import new_event
from libs.common.provenance import EventSigner
from libs.common.subjects import AUTH_REVOKED, REPORT_ERASED, REPORT_RECEIVED
from lifeline.bus import ensure_bus
from tests.integration.auth.conftest import Sharing, running_sharing, services_for, sharing_settings
from tests.support.bus import INTRUDER, SecuredBus, start_secured_bus
from tests.support.receivers import until
from tests.support.reports import report_body, token_value

REFUSED = "security: event refused"


@dataclass
class Attack:
    """The network on an authenticated bus, and the intruder's connection to it."""

    bus: SecuredBus
    sharing: Sharing
    urls: dict[str, str]
    js: JetStreamContext
    nc: NatsClient

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        """Publish as the intruder (its permissions allow any subject)."""
        await self.js.publish(
            subject, payload, headers={"Nats-Msg-Id": uuid.uuid4().hex, **headers}
        )

    def stolen(self, service: str) -> EventSigner:
        """A producing service's signing key and certificate, copied off its disk."""
        files = self.bus.files
        return EventSigner.load(files.event_key(service), files.event_cert(service))


@pytest.fixture
async def attack(tmp_path: Path, db_url_factory: Callable[[str], str]) -> AsyncIterator[Attack]:
    """Sharing, intake and alerts on a bus with an intruder user."""
    bus = start_secured_bus(tmp_path, intruder=True)
    settings = sharing_settings(
        tmp_path, bus.url, db_url_factory("sharing"), wire=False, **bus.settings("sharing")
    )
    nc = await nats.connect(bus.url, tls=bus.tls(INTRUDER), allow_reconnect=False)
    try:
        async with (
            httpx.AsyncClient(timeout=10) as http,
            running_sharing(settings, http) as sharing,
            services_for(sharing, bus.url, db_url_factory, tmp_path, extra=bus.settings) as (
                urls,
                _,
            ),
        ):
            yield Attack(bus, sharing, urls, nc.jetstream(), nc)
    finally:
        await nc.close()
        bus.server.stop()


def _refusals(caplog: pytest.LogCaptureFixture, subject: str) -> list[str]:
    return [
        str(getattr(r, "reason", ""))
        for r in caplog.records
        if r.getMessage() == REFUSED and getattr(r, "subject", "") == subject
    ]


async def test_forged_revocations_reports_and_erasures_are_refused(
    attack: Attack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="libs.common.security")
    http, urls, sharing = attack.sharing.http, attack.urls, attack.sharing
    ngo = await sharing.client("reports:submit", "reports:read")
    other = await sharing.client("reports:read")
    # The lawyer works for the same partner: the forged revocation targets them both.
    lawyer = await sharing.client("watchlist:manage", "alerts:read", partner_id=ngo.partner_id)
    as_ngo, as_lawyer = await ngo.headers(http), await lawyer.headers(http)
    as_other = await other.headers(http)

    # The genuine path works on the authenticated bus: signed events are stored and matched.
    tokens = [{"kind": "name_dob", "version": 1, "value": token_value()}]
    entry = {"label": "watched", "tokens": tokens}
    resp = await http.post(urls["alerts"] + "/v1/watchlist/entries", json=entry, headers=as_lawyer)
    assert resp.status_code == 201, resp.text
    # The intruder listens on the subject: the stream's copy is erased once both readers have it.
    published = await attack.nc.subscribe(REPORT_RECEIVED)
    body = report_body(subject={"tokens": tokens, "sex": "male"})
    resp = await http.post(urls["intake"] + "/v1/reports", json=body, headers=as_ngo)
    assert resp.status_code in (201, 202), resp.text
    report_id = resp.json()["report_id"]

    async def alerts() -> list[dict[str, Any]]:
        listed = await http.get(urls["alerts"] + "/v1/alerts", headers=as_lawyer)
        assert listed.status_code == 200, listed.text
        return list(listed.json()["alerts"])

    assert await until(lambda: _one(alerts))
    read = await http.get(urls["sharing"] + f"/v1/reports/{report_id}", headers=as_ngo)
    assert read.status_code == 200, read.text

    intake_key, sharing_key = attack.stolen("intake"), attack.stolen("sharing")
    rogue = ensure_bus(
        tmp_path / "rogue", host="127.0.0.1", port=1, store_dir=tmp_path / "x", server_name="r"
    )
    rogue_sharing = EventSigner.load(rogue.event_key("sharing"), rogue.event_cert("sharing"))

    # 1. A revocation of the whole partner, "from sharing": unsigned, signed with intake's key
    #    (intake does not publish revocations), and signed under a CA of the attacker's.
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    revoke = new_event(
        AUTH_REVOKED, "sharing", {"kind": "org", "id": ngo.partner_id, "not_before": later}
    )
    payload = revoke.model_dump_json().encode()
    for headers in (
        {},
        intake_key.headers(AUTH_REVOKED, payload),
        rogue_sharing.headers(AUTH_REVOKED, payload),
    ):
        await attack.publish(AUTH_REVOKED, payload, headers)

    # 2. The genuine report, relabelled as another partner's: its signature no longer matches,
    #    re-signed with sharing's key (sharing does not publish reports), or unsigned.
    genuine = await published.next_msg(timeout=10)
    event = json.loads(genuine.data or b"")
    event["id"] = str(uuid.uuid4())
    event["data"] |= {"partner_id": other.partner_id, "report_id": str(uuid.uuid4())}
    forged = json.dumps(event).encode()
    kept = {k: v for k, v in (genuine.headers or {}).items() if k.startswith("Lifeline-")}
    for headers in (kept, sharing_key.headers(REPORT_RECEIVED, forged), {}):
        await attack.publish(REPORT_RECEIVED, forged, headers)

    # 3. An erasure of the real report, signed with intake's key.
    erase = new_event(
        REPORT_ERASED, "sharing", {"report_id": report_id, "partner_id": ngo.partner_id}
    )
    payload = erase.model_dump_json().encode()
    await attack.publish(REPORT_ERASED, payload, intake_key.headers(REPORT_ERASED, payload))

    # Every consumer refuses every forgery: three services follow revocations, two read reports.
    assert await until(lambda: len(_refusals(caplog, AUTH_REVOKED)) >= 9, timeout=15)
    assert await until(lambda: len(_refusals(caplog, REPORT_RECEIVED)) >= 6, timeout=15)
    assert await until(lambda: len(_refusals(caplog, REPORT_ERASED)) >= 1, timeout=15)
    assert sorted(set(_refusals(caplog, AUTH_REVOKED))) == [
        "not_the_producer_of_this_subject",
        "unsigned",
        "untrusted_certificate",
    ]
    assert sorted(set(_refusals(caplog, REPORT_RECEIVED))) == [
        "bad_signature",
        "not_the_producer_of_this_subject",
        "unsigned",
    ]

    # ... and nothing changed: the partner's tokens work everywhere, the relabelled report is
    # nobody's, the lawyer has one alert, still open, and the report is still readable.
    for name, client in (("intake", ngo), ("sharing", ngo), ("alerts", lawyer)):
        resp = await http.get(urls[name] + "/v1/auth/whoami", headers=await client.headers(http))
        assert resp.status_code == 200, (name, resp.text)
    relabelled = event["data"]["report_id"]
    resp = await http.get(urls["sharing"] + f"/v1/reports/{relabelled}", headers=as_other)
    assert resp.status_code == 404, resp.text
    listed = await alerts()
    assert [a["status"] for a in listed] == ["open"], listed
    read = await http.get(urls["sharing"] + f"/v1/reports/{report_id}", headers=as_ngo)
    assert read.status_code == 200, read.text


async def _one(alerts: Callable[[], Any]) -> bool:
    return len(await alerts()) == 1
