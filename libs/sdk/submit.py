"""Submitting a batch of drafts: tokenise locally, post to intake, resumable and idempotent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from libs.common.reports import IdentityToken
from libs.sdk.identity import tokenise_identities
from libs.sdk.report_files import Draft, Rejection

TOKENISE_CHUNK = 100
MAX_ATTEMPTS = 5


@dataclass
class Outcome:
    """What happened to a batch."""

    accepted: list[tuple[str, str]] = field(default_factory=list)  # (client id, report id)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # done in an earlier run
    rejected: list[Rejection] = field(default_factory=list)

    def done(self) -> int:
        """Rows finished so far, whatever became of them."""
        return len(self.accepted) + len(self.duplicates) + len(self.skipped) + len(self.rejected)


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
    progress: Callable[[Outcome, int], None] = lambda _o, _n: None,
) -> Outcome:
    """Submit every draft not already in `state`; `http.base_url` must be sharing's URL."""
    outcome = Outcome(
        skipped=[d.client_report_id for d in drafts if d.client_report_id in state.done]
    )
    todo = [d for d in drafts if d.client_report_id not in state.done]
    gate = asyncio.Semaphore(concurrency)
    total = len(drafts)

    async def one(draft: Draft, tokens: list[IdentityToken]) -> None:
        async with gate:
            body = draft.with_tokens(tokens).model_dump(mode="json")
            await _post(http, intake_url, draft, body, state=state, outcome=outcome)
            progress(outcome, total)

    progress(outcome, total)  # show where a resumed batch starts before the first answer
    for start in range(0, len(todo), TOKENISE_CHUNK):
        chunk = todo[start : start + TOKENISE_CHUNK]
        token_lists = await tokenise_identities(http, [d.person for d in chunk])
        await asyncio.gather(*(one(d, t) for d, t in zip(chunk, token_lists, strict=True)))
    return outcome


async def _post(
    http: httpx.AsyncClient,
    intake_url: str,
    draft: Draft,
    body: dict[str, object],
    *,
    state: StateFile,
    outcome: Outcome,
) -> None:
    url = intake_url.rstrip("/") + "/v1/reports"
    for attempt in range(MAX_ATTEMPTS):
        try:
            resp = await http.post(url, json=body)
        except httpx.TransportError:
            await asyncio.sleep(min(2**attempt, 10))
            continue
        if resp.status_code in (200, 202):
            report_id = resp.json()["report_id"]
            state.record(draft.client_report_id, report_id)
            target = outcome.accepted if resp.status_code == 202 else outcome.duplicates
            target.append((draft.client_report_id, report_id))
            return
        if resp.status_code == 429 or resp.status_code >= 500:
            await asyncio.sleep(float(resp.headers.get("Retry-After", min(2**attempt, 10))))
            continue
        outcome.rejected.append(Rejection(draft.row, draft.client_report_id, _reasons(resp)))
        return
    reason = ("the server did not accept it after several tries; run the command again",)
    outcome.rejected.append(Rejection(draft.row, draft.client_report_id, reason))


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
        f"{answer.get('error', resp.status_code)}: {answer.get('detail', '')}",
    )
