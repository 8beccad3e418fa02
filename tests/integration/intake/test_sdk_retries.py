"""The SDK through an intake that refuses, limits, restarts and loses answers: every report
is delivered once, and what cannot be delivered in time is reported, never dropped."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from libs.common.errors import problem
from libs.sdk import load_private_key
from libs.sdk.report_files import parse
from libs.sdk.retry import Backoff
from libs.sdk.submit import StateFile
from lifeline.cli.profile import Profile
from lifeline.cli.report import _submit, _summary
from tests.integration.intake.test_ngo_client import network  # noqa: F401 - a fixture
from tests.support.inproc import mounted, set_reachable

HEADER = "client_report_id,incident_type,legal_basis,occurred_at,country,tlp,person_name,person_dob"
# What the front does to each report's successive POSTs before letting one through.
PLANS = {
    "r-503": ["503"],
    "r-429": ["429"],
    "r-401": ["401", "401"],  # the SDK's fresh token is refused as well: intake just restarted
    "r-lost": ["lost"],  # stored, but the answer never arrives
    "r-5xx": ["500", "503"],
    "r-ok1": [],
    "r-ok2": [],
}


class FaultyFront:
    """An ASGI front before intake that answers each report's first POSTs with a fault."""

    def __init__(self, intake_url: str, plans: dict[str, list[str]]) -> None:
        self.intake_url = intake_url
        self.plans = {k: list(v) for k, v in plans.items()}
        self.stored: collections.Counter[str] = collections.Counter()
        self.replayed: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        plan = self.plans.get(json.loads(body).get("client_report_id", ""), [])
        fault = plan.pop(0) if plan else None
        response = await self._answer(request, body, fault)
        await response(scope, receive, send)

    async def _answer(self, request: Request, body: bytes, fault: str | None) -> Response:
        if fault in {"503", "429", "500", "always"}:
            status = 503 if fault == "always" else int(fault)
            error = problem("unavailable", status, "try later")
            return JSONResponse(
                error,
                status_code=status,
                headers={"Retry-After": "1"},
                media_type="application/problem+json",
            )
        if fault == "401":
            error = problem("unauthenticated", 401, "authentication required")
            return JSONResponse(
                error,
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="application/problem+json",
            )
        headers = {
            k: v
            for k, v in request.headers.items()
            if k in {"authorization", "content-type", "idempotency-key"}
        }
        async with httpx.AsyncClient() as http:
            real = await http.post(self.intake_url + "/v1/reports", content=body, headers=headers)
        client_report_id = json.loads(body)["client_report_id"]
        if real.headers.get("Idempotent-Replayed") == "true":
            self.replayed[client_report_id] += 1
        elif real.status_code == 202:
            self.stored[client_report_id] += 1
        if fault == "lost":
            return Response(b"bad gateway", status_code=502)
        return Response(real.content, status_code=real.status_code, media_type="application/json")


def _drafts(ids: list[str]) -> Any:
    rows = [
        f"{cid},detention,cis_interstate_search,2026-11-20,KG,AMBER,Person Number{i},1990"
        for i, cid in enumerate(ids)
    ]
    drafts, rejected = parse("\n".join([HEADER, *rows]) + "\n", "csv")
    assert not rejected
    return drafts


async def test_every_report_is_delivered_once_through_outages_limits_and_lost_answers(
    network: tuple[Profile, Path],  # noqa: F811
) -> None:
    profile, tmp = network
    front = FaultyFront(profile.intake_url, PLANS)
    async with mounted("intake-front", front) as front_url:
        via_front = dataclasses.replace(profile, intake_url=front_url)
        # Intake is not even listening at first: connections are refused for a second.
        set_reachable(front_url, None)
        asyncio.get_running_loop().call_later(1.0, set_reachable, front_url, front)
        drafts = _drafts(list(PLANS))
        state = StateFile(tmp / "state.jsonl")
        outcome = await _submit(
            via_front,
            profile.client_id,
            _key(profile),
            drafts,
            state,
            concurrency=4,
            backoff=Backoff(budget_s=30.0, first_s=0.1, cap_s=1.0),
        )
    assert outcome.ok(), outcome
    delivered = dict(outcome.accepted + outcome.duplicates)
    assert sorted(delivered) == sorted(PLANS)
    assert len(set(delivered.values())) == len(PLANS)  # one report id each
    # The retry of the lost answer carried the first try's Idempotency-Key: intake answered it
    # again (202, replayed) rather than as a duplicate, and created nothing new.
    assert outcome.duplicates == []
    assert front.replayed == {"r-lost": 1}
    assert front.stored == dict.fromkeys(PLANS, 1)  # intake stored each report once
    assert state.done == delivered


async def test_a_report_intake_never_takes_is_listed_as_not_delivered(
    network: tuple[Profile, Path],  # noqa: F811
) -> None:
    profile, tmp = network
    ids = ["down-1", "down-2", "down-3"]
    front = FaultyFront(profile.intake_url, {cid: ["always"] * 100 for cid in ids})
    async with mounted("intake-front", front) as front_url:
        via_front = dataclasses.replace(profile, intake_url=front_url)
        drafts = _drafts(ids)
        state = StateFile(tmp / "state.jsonl")
        outcome = await _submit(
            via_front,
            profile.client_id,
            _key(profile),
            drafts,
            state,
            concurrency=1,
            backoff=Backoff(budget_s=2.5, first_s=0.1, cap_s=0.5),
        )
    assert not outcome.ok()
    assert not outcome.accepted and not outcome.duplicates and not outcome.rejected
    summary = _summary(outcome, drafts, dry_run=False)
    failed = {r["client_report_id"]: r["reasons"][0] for r in summary["failed"]}
    assert sorted(failed) == ids
    assert failed["down-1"].startswith("not delivered: HTTP 503 until the retry budget ran out")
    # Once one report ran out of time the others are not sent into the same outage.
    assert failed["down-3"].startswith("not sent:")
    assert all(reason.endswith("run the command again") for reason in failed.values())
    assert state.done == {}  # a second run submits all three


def _key(profile: Profile) -> Any:
    return load_private_key(profile.key_path)
