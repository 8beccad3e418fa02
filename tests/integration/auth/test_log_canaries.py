"""No secret reaches a log: failures driven through every service, then every line read.

Canaries stand for what must never be logged: a report's narrative, identity tokens, a
lawyer's label and address, a bearer token. Each service is made to fail on them (bad input,
conflicts, refused tokens, a poison event on the bus) and to succeed with them (a stored
report matched against a watchlist); every record is then formatted as production writes it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import nats
import pytest

from libs.common import nats as natsx
from libs.common.events import new_event
from libs.common.subjects import REPORT_RECEIVED
from tests.integration.auth.conftest import Network
from tests.support.logs import service_logging, written_logs

__all__ = ["service_logging"]  # a fixture of this module
from tests.support.natsd import NatsServer
from tests.support.receivers import until
from tests.support.reports import report_body, token_value

NARRATIVE = "canary-narrative-7f3a held at passport control"
TOKEN = token_value()
LABEL = "canary-label-51b0"
ADDRESS = "canary-address-29c4"
BEARER = "canary.bearer.e61d"
CANARIES = (NARRATIVE, TOKEN, LABEL, ADDRESS, BEARER, TOKEN[:24], "canary-")


def _subject() -> dict[str, Any]:
    return {"tokens": [{"kind": "name_dob", "version": 1, "value": TOKEN}], "sex": "male"}


async def test_no_canary_reaches_any_log(
    network: Network,
    nats_server: NatsServer,
    caplog: pytest.LogCaptureFixture,
    service_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    http, urls = network.sharing.http, network.urls
    ngo = await network.sharing.client("reports:submit", "reports:read")
    lawyer = await network.sharing.client("watchlist:manage", "alerts:read")
    as_ngo, as_lawyer = await ngo.headers(http), await lawyer.headers(http)

    # intake: a report carrying the canaries, a conflicting retry, bad input, a forged token
    body = report_body(narrative=NARRATIVE, subject=_subject())
    entry = {"label": LABEL, "tokens": _subject()["tokens"]}
    resp = await http.post(urls["alerts"] + "/v1/watchlist/entries", json=entry, headers=as_lawyer)
    assert resp.status_code == 201, resp.text
    resp = await http.post(urls["intake"] + "/v1/reports", json=body, headers=as_ngo)
    assert resp.status_code in (201, 202), resp.text
    report_id = resp.json()["report_id"]
    conflict = {**body, "narrative": NARRATIVE + " (changed)"}
    resp = await http.post(urls["intake"] + "/v1/reports", json=conflict, headers=as_ngo)
    assert resp.status_code == 409, resp.text
    bad = report_body(incident_type=NARRATIVE, narrative=NARRATIVE, subject=_subject())
    resp = await http.post(urls["intake"] + "/v1/reports", json=bad, headers=as_ngo)
    assert resp.status_code == 422, resp.text
    for name in ("intake", "sharing", "alerts"):
        forged = {"Authorization": f"Bearer {BEARER}"}
        resp = await http.get(urls[name] + "/v1/auth/whoami", headers=forged)
        assert resp.status_code == 401

    # sharing: the stored report read back by its submitter; bad identity input
    async def stored() -> bool:
        read = await http.get(urls["sharing"] + f"/v1/reports/{report_id}", headers=as_ngo)
        return read.status_code == 200 and read.json()["report"]["narrative"] == NARRATIVE

    assert await until(stored)
    evaluate = {"elements": [TOKEN, NARRATIVE]}
    resp = await http.post(urls["sharing"] + "/v1/identity/evaluate", json=evaluate, headers=as_ngo)
    assert resp.status_code in (400, 422), resp.text

    # alerts: the report matched the entry; a bad profile and a bad entry are refused
    async def alerted() -> bool:
        listed = await http.get(urls["alerts"] + "/v1/alerts", headers=as_lawyer)
        return listed.status_code == 200 and bool(listed.json()["alerts"])

    assert await until(alerted)
    profile = {"email": {"address": ADDRESS}, "webhook": {"url": f"ftp://{ADDRESS}/"}}
    resp = await http.put(urls["alerts"] + "/v1/lawyer/profile", json=profile, headers=as_lawyer)
    assert resp.status_code == 422, resp.text
    entry = {"label": LABEL, "tokens": [{"kind": "name_dob", "version": 1, "value": LABEL}]}
    resp = await http.post(urls["alerts"] + "/v1/watchlist/entries", json=entry, headers=as_lawyer)
    assert resp.status_code == 422, resp.text

    # the bus: an event that breaks its contract, carrying the canaries, is dead-lettered
    poison = new_event(
        REPORT_RECEIVED,
        "intake",
        {"report_id": str(uuid.uuid4()), "tokens": _subject()["tokens"], "sealed": NARRATIVE},
    )
    nc = await nats.connect(nats_server.url)
    try:
        await natsx.publish(nc.jetstream(), poison)
        dead = [r for r in caplog.records if r.getMessage() == "dead-lettered"]
        assert await until(
            lambda: (
                len([r for r in caplog.records if r.getMessage() == "dead-lettered"])
                >= len(dead) + 2
            )
        )
    finally:
        await nc.close()

    written = written_logs(caplog.records)
    assert len(caplog.records) > 20 and "dead-lettered" in written
    for canary in CANARIES:
        assert canary not in written, f"{canary!r} was logged"
