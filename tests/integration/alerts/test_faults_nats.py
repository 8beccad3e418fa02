"""nats-server SIGKILLed while 200 matching reports flow: every alert delivered, none doubled."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from libs.common import nats as natsx
from libs.common.events import Envelope
from services.alerts.alerts.models import Alert, AlertMatch
from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.integration.alerts.support import KEYS, receiver, report_event, until
from tests.support.natsd import NatsServer

ALERTS = Alert.__table__  # type: ignore[attr-defined]
MATCHES = AlertMatch.__table__  # type: ignore[attr-defined]
N = 200


def _people(n: int) -> list[list[dict[str, Any]]]:
    from libs.common.crypto.encoding import b64u_encode
    from libs.common.identity.tokens import LocalEvaluator, tokenise

    identities = [
        (f"Person{i:03d} Testov", f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}") for i in range(n)
    ]
    key = KEYS[1]
    sets = tokenise(identities, LocalEvaluator(key), key.version)
    return [
        [
            {"kind": t.kind.value, "version": t.key_version, "value": b64u_encode(t.value)}
            for t in sorted(s)
        ]
        for s in sets
    ]


async def _publish_until_stored(nats_url: str, events: list[Envelope], progress: list[int]) -> None:
    """Publish like intake's relay: retry each event until JetStream acks it (same Nats-Msg-Id)."""
    nc = await natsx.connect(nats_url, "test-relay")
    js = nc.jetstream()
    try:
        for event in events:
            while True:
                try:
                    await natsx.publish(js, event, timeout=1.0)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            progress.append(1)
            await asyncio.sleep(0.005)  # a steady flow, not one burst
    finally:
        await nc.close()


async def test_nats_killed_while_200_matching_reports_flow(
    own_nats: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    people = _people(N)
    async with (
        alerts_stack_on(own_nats.url, db_url_factory("alerts"), tmp_path) as stack,
        receiver() as hook,
    ):
        await _lawyer(stack, hook, people)
        events = [report_event(tokens) for tokens in people]
        progress: list[int] = []

        async def chaos() -> None:
            while len(progress) < 50:
                await asyncio.sleep(0.005)
            own_nats.stop(signal.SIGKILL)
            await asyncio.sleep(2)
            own_nats.start()

        await asyncio.gather(_publish_until_stored(own_nats.url, events, progress), chaos())
        assert await until(lambda: len(hook.unique()) >= N, timeout=90), len(hook.unique())
        await asyncio.sleep(1)  # let any straggling duplicate arrive before counting

        by_id = {}
        for hit in hook.hits:
            # A duplicate post is only ever a retry of the same message.
            assert (
                by_id.setdefault(hit.webhook_id, hit.payload["data"]["alert_id"])
                == hit.payload["data"]["alert_id"]
            )
        assert len(set(by_id.values())) == N
        reports = {e.data["report_id"] for e in events}
        assert {h.payload["data"]["report_id"] for h in hook.hits} == reports
        assert (await stack.db(select(func.count()).select_from(ALERTS)))[0][0] == N
        pairs = await stack.db(
            select(MATCHES.c.report_id, MATCHES.c.entry_id, func.count()).group_by(
                MATCHES.c.report_id, MATCHES.c.entry_id
            )
        )
        assert len(pairs) == N and all(count == 1 for *_, count in pairs)


async def _lawyer(stack: AlertsStack, hook: Any, people: list[list[dict[str, Any]]]) -> None:
    resp = await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
    hook.secret = next(iter(resp.json()["new_secrets"].values()))
    for i, tokens in enumerate(people):
        r = await stack.call(
            "POST", "/v1/watchlist/entries", json={"label": f"client {i}", "tokens": tokens}
        )
        assert r.status_code == 201, r.text
