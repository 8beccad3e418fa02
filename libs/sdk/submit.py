"""Submitting a batch of drafts: tokenise locally, post to intake, resumable and idempotent."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.common.reports import IdentityToken
from libs.sdk.identity import tokenise_identities
from libs.sdk.report_files import Draft, Rejection
from libs.sdk.retry import IDEMPOTENCY_KEY, Backoff, GaveUp

TOKENISE_CHUNK = 100
# Rows not sent once another row ran out of time: the service is away, waiting again for each
# row would only make the batch take its budget once per row.
NOT_SENT = "not sent: the service did not answer in time for another row"


@dataclass
class Outcome:
    """What happened to a batch."""

    accepted: list[tuple[str, str]] = field(default_factory=list)  # (client id, report id)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # done in an earlier run
    rejected: list[Rejection] = field(default_factory=list)  # refused: fix the row
    failed: list[Rejection] = field(default_factory=list)  # not delivered in time: run again

    def done(self) -> int:
        """Rows finished so far, whatever became of them."""
        delivered = len(self.accepted) + len(self.duplicates) + len(self.skipped)
        return delivered + len(self.rejected) + len(self.failed)

    def ok(self) -> bool:
        """True when every row is delivered (now or by an earlier run)."""
        return not self.rejected and not self.failed


class StateFile:
    """Which client report ids a previous run already delivered (JSON Lines, append-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, str] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.done[entry["client_report_id"]] = entry["report_id"]

    def record(self, client_report_id: str, report_id: str) -> None:
        """Remember one delivered report (flushed at once, so a crash loses nothing)."""
        with self.path.open("a") as fh:
            fh.write(
                json.dumps({"client_report_id": client_report_id, "report_id": report_id}) + "\n"
            )
        self.done[client_report_id] = report_id


async def submit_drafts(
    http: httpx.AsyncClient,
    intake_url: str,
    drafts: list[Draft],
    state: StateFile,
    *,
    concurrency: int = 8,
    backoff: Backoff | None = None,
    progress: Callable[[Outcome, int], None] = lambda _o, _n: None,
) -> Outcome:
    """Submit every draft not already in `state`; `http.base_url` must be sharing's URL.

    Every draft ends in exactly one list of the outcome: what could not be delivered within
    the retry budget is `failed`, never dropped.
    """
    batch = _Batch(http, intake_url.rstrip("/") + "/v1/reports", state, backoff or Backoff())
    outcome = batch.outcome
    outcome.skipped = [d.client_report_id for d in drafts if d.client_report_id in state.done]
    todo = [d for d in drafts if d.client_report_id not in state.done]
    gate = asyncio.Semaphore(concurrency)
    total = len(drafts)

    async def one(draft: Draft, tokens: list[IdentityToken]) -> None:
        async with gate:
            await batch.post(draft, draft.with_tokens(tokens).model_dump(mode="json"))
            progress(outcome, total)

    progress(outcome, total)  # show where a resumed batch starts before the first answer
    for start in range(0, len(todo), TOKENISE_CHUNK):
        chunk = todo[start : start + TOKENISE_CHUNK]
        try:
            # A follow-up without a person needs no tokens (it follows its original's person).
            people = [d.person for d in chunk if d.person is not None]
            made = iter(
                await tokenise_identities(http, people, backoff=batch.backoff) if people else []
            )
            token_lists = [next(made) if d.person is not None else [] for d in chunk]
        except GaveUp as exc:
            reason = f"identity tokens not made: {exc.reason}; run the command again"
            outcome.failed += [
                Rejection(d.row, d.client_report_id, (reason,)) for d in todo[start:]
            ]
            progress(outcome, total)
            break
        await asyncio.gather(*(one(d, t) for d, t in zip(chunk, token_lists, strict=True)))
    return outcome


@dataclass
class _Batch:
    """One run's submissions: where they go, how they are retried, what became of each."""

    http: httpx.AsyncClient
    url: str
    state: StateFile
    backoff: Backoff
    outcome: Outcome = field(default_factory=Outcome)
    given_up: bool = False

    async def post(self, draft: Draft, body: dict[str, object]) -> None:
        """Deliver one report, or record why it was refused or not delivered."""
        if self.given_up:
            self._fail(draft, NOT_SENT)
            return
        # Every try of one report carries one key: a try whose answer was lost is answered
        # again (the first 202) instead of being taken for a duplicate; a repeated
        # client_report_id across runs still gets the first report id back.
        headers = {IDEMPOTENCY_KEY: f'"{uuid.uuid4()}"'}
        try:
            resp = await self.backoff.request(
                lambda: self.http.post(self.url, json=body, headers=headers)
            )
        except GaveUp as exc:
            self.given_up = True
            self._fail(draft, f"not delivered: {exc.reason} until the retry budget ran out")
            return
        if resp.status_code in (200, 202):
            report_id = resp.json()["report_id"]
            self.state.record(draft.client_report_id, report_id)
            target = self.outcome.accepted if resp.status_code == 202 else self.outcome.duplicates
            target.append((draft.client_report_id, report_id))
            return
        self.outcome.rejected.append(Rejection(draft.row, draft.client_report_id, _reasons(resp)))

    def _fail(self, draft: Draft, reason: str) -> None:
        reasons = (f"{reason}; run the command again",)
        self.outcome.failed.append(Rejection(draft.row, draft.client_report_id, reasons))


def _reasons(resp: httpx.Response) -> tuple[str, ...]:
    try:
        answer = resp.json()
    except ValueError:
        return (f"HTTP {resp.status_code}",)
    fields = [
        f"{f.get('path', f.get('field', ''))}: {f.get('reason', '')}"
        for f in answer.get("fields", [])
    ]
    return tuple(fields) or (
        f"{answer.get('code') or resp.status_code}: {answer.get('detail', '')}",
    )
