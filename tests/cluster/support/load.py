"""A bounded load through the SDK (its retries): reports round robin over intake's replicas,
one in ten about a watched client, each watched client reported once (one alert each)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from libs.sdk.identity import tokenise_identities
from libs.sdk.retry import Backoff, GaveUp
from lifeline.client import signed_in
from tests.cluster.support.people import LAWYER_SCOPES, Client
from tests.support.receivers import Receiver
from tests.support.reports import report_body

# The lawyer's OpenPGP key (tests/integration/alerts): only encrypted mail carries ack links.
PGP = Path(__file__).parents[2] / "integration" / "alerts" / "data"
EMAIL = "lawyer@example.org"
# How long the SDK retries one report. `LIFELINE_CLUSTER_RETRY_BUDGET_S=0`: one try, as the
# SDK before its retries did (to measure a checkout from before them).
RETRY_BUDGET_S = float(os.environ.get("LIFELINE_CLUSTER_RETRY_BUDGET_S", "90"))
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "da", "ze")


def person(n: int, watched: bool) -> tuple[str, str]:
    """A made-up person, different for every n (and never both watched and not)."""
    stem = "".join(_SYLLABLES[int(d)] for d in f"{n:04d}").capitalize()
    first = "Temir" if watched else "Aibek"
    born = dt.date(1960, 1, 1) + dt.timedelta(days=n * 7 + (0 if watched else 3))
    return f"{first} {stem}ev", born.isoformat()


@dataclass
class Sent:
    """One report the driver submitted and what became of it."""

    n: int
    label: str | None  # the watched client's label, if about one
    started: float
    intake: int
    status: str = "pending"  # accepted | duplicate | failed | rejected
    report_id: str | None = None
    answered: float | None = None


@dataclass
class Load:
    """The NGO's and the lawyer's clients on the stack's addresses."""

    sharing_url: str
    intake_urls: list[str]
    alerts_urls: list[str]
    reporter: Client
    lawyer: Client
    hook: Receiver
    sent: list[Sent] = field(default_factory=list)
    watched: int = 0
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _ngo: httpx.AsyncClient | None = None

    async def lawyer_http(self) -> httpx.AsyncClient:
        """A new client signed in as the lawyer (closed with the load's other clients)."""
        http, _ = await self._stack.enter_async_context(
            signed_in(
                self.sharing_url, self.lawyer.client_id, self.lawyer.key(), scopes=LAWYER_SCOPES
            )
        )
        http.base_url = self.sharing_url  # tokenisation talks to sharing's OPRF
        return http

    async def prepare(self, watched: int) -> None:
        """The lawyer saves a webhook through one alerts replica and watches `watched` clients
        through the other."""
        http = await self.lawyer_http()
        body = {
            "webhook": {"url": self.hook.url, "rotate_secret": False},
            "email": {"address": EMAIL, "pgp_public_key": (PGP / "lawyer-public.asc").read_text()},
        }
        # Retried as the SDK retries (503 + Retry-After): a replica that cannot yet confirm its
        # revocation feed is current trusts no token for a moment, by design (docs/auth.md).
        backoff = Backoff()
        profile = f"{self.alerts_urls[0]}/v1/lawyer/profile"
        resp = await backoff.request(lambda: http.put(profile, json=body))
        assert resp.status_code == 200, resp.text
        (self.hook.secret,) = resp.json()["new_secrets"].values()
        people = [person(i, watched=True) for i in range(watched)]
        tokens = await tokenise_identities(http, people, backoff=backoff)
        for i, toks in enumerate(tokens):
            entry = {"label": f"client {i}", "tokens": [t.model_dump() for t in toks]}
            url = f"{self.alerts_urls[1]}/v1/watchlist/entries"
            body = {**entry, "replace": False}
            resp = await backoff.request(lambda: http.post(url, json=body))  # noqa: B023
            assert resp.status_code in (200, 201), resp.text
        self.watched = watched
        ngo, _ = await self._stack.enter_async_context(
            signed_in(
                self.sharing_url,
                self.reporter.client_id,
                self.reporter.key(),
                scopes=["reports:submit"],
            )
        )
        ngo.base_url = self.sharing_url
        self._ngo = ngo

    async def close(self) -> None:
        """Close the clients."""
        await self._stack.aclose()

    async def submit(self, n: int, label: str | None, who: tuple[str, str]) -> None:
        """Tokenise and submit one report, retrying as the SDK does; record the outcome."""
        ngo = self._ngo
        assert ngo is not None
        sent = Sent(n, label, time.monotonic(), n % len(self.intake_urls))
        self.sent.append(sent)
        backoff = Backoff(budget_s=RETRY_BUDGET_S)
        try:
            (tokens,) = await tokenise_identities(ngo, [who], backoff=backoff)
            subject: dict[str, Any] = {"tokens": [t.model_dump() for t in tokens], "sex": "male"}
            body = report_body(client_report_id=f"load-{n:05d}", subject=subject)
            url = f"{self.intake_urls[sent.intake]}/v1/reports"
            resp = await backoff.request(lambda: ngo.post(url, json=body))
        except (GaveUp, httpx.HTTPError) as exc:
            sent.status = f"failed: {type(exc).__name__}"
            return
        sent.answered = time.monotonic()
        if resp.status_code in (200, 202):
            sent.status = "accepted" if resp.status_code == 202 else "duplicate"
            sent.report_id = resp.json()["report_id"]
        else:
            sent.status = f"rejected: {resp.status_code}"

    async def run(self, stop: asyncio.Event, rate: float, limit: int) -> None:
        """Submit at `rate` per second until `stop` or `limit` reports; wait for the last."""
        tasks: list[asyncio.Task[None]] = []
        watched_next = 0
        for n in range(limit):
            if stop.is_set():
                break
            label = None
            if n % 10 == 5 and watched_next < self.watched:
                label, who = f"client {watched_next}", person(watched_next, watched=True)
                watched_next += 1
            else:
                who = person(n, watched=False)
            tasks.append(asyncio.create_task(self.submit(n, label, who)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
