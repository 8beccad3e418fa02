"""Watchlist use cases: add (idempotent by label), list, show, remove — each lawyer their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.errors import Conflict, InvalidInput, NotFound
from libs.common.paging import split_page
from services.alerts.alerts import suppressions
from services.alerts.watchlists import repository as repo
from services.alerts.watchlists.domain import (
    DEFAULT_INCIDENT_TYPES,
    EntryRule,
    valid_watchlist_tokens,
)
from services.alerts.watchlists.schemas import (
    EntryIn,
    EntryOut,
    RuleIn,
    RuleOut,
    SuppressionOut,
)


def _utc(value: Any) -> Any:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and not value.tzinfo else value


def rule_from(body: RuleIn | None) -> EntryRule:
    """The entry rule a request asks for (the default when none is given)."""
    if body is None:
        return EntryRule()
    return EntryRule(
        frozenset(body.incident_types) if body.incident_types else DEFAULT_INCIDENT_TYPES,
        frozenset(body.legal_bases),
        frozenset(body.countries),
    )


def entry_out(row: RowMapping, status: Any = None) -> EntryOut:
    """The API view of an entry row."""
    rule = EntryRule.from_columns(row["incident_types"], row["legal_bases"], row["countries"])
    return EntryOut(
        id=row["id"],
        label=row["label"],
        rule=RuleOut(
            incident_types=sorted(rule.incident_types),
            legal_bases=sorted(rule.legal_bases),
            countries=sorted(rule.countries),
        ),
        token_count=row["token_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=status,
    )


class WatchlistFull(Conflict):
    """A new entry would pass the lawyer's or the partner's limit (409)."""

    code = "watchlist_full"


@dataclass
class Watchlist:
    """A lawyer's watchlist; every query is scoped to the calling client."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    max_per_lawyer: int = 1_000
    max_per_partner: int = 10_000

    async def add(self, principal: Principal, body: EntryIn) -> EntryOut:
        """Create an entry; the same label with the same content is a no-op (import re-runs)."""
        if not valid_watchlist_tokens(body.tokens):
            raise InvalidInput(
                "tokens must be identity tokens of known kinds with 64-byte values",
                fields=[{"path": "tokens", "reason": "not identity tokens"}],
            )
        rule = rule_from(body.rule)
        wanted = {(t.kind, t.version, t.value) for t in body.tokens}
        try:
            async with transaction(self.sessions) as session:
                return await self._add(session, principal, body, rule, wanted)
        except IntegrityError:
            # Two requests raced on the same label: the loser sees the winner's entry.
            async with transaction(self.sessions) as session:
                return await self._add(session, principal, body, rule, wanted)

    async def _add(
        self,
        session: AsyncSession,
        principal: Principal,
        body: EntryIn,
        rule: EntryRule,
        wanted: set[tuple[str, int, str]],
    ) -> EntryOut:
        lawyer, now = principal.client_id, self.clock.now()
        await repo.ensure_lawyer(session, lawyer, principal.partner_id, now)
        existing = await repo.live_entry_by_label(session, lawyer, body.label)
        if existing is not None:
            same_rule = EntryRule.from_columns(
                existing["incident_types"], existing["legal_bases"], existing["countries"]
            )
            same = same_rule == rule and await repo.token_texts(session, existing["id"]) == wanted
            if same:
                return entry_out(existing, "unchanged")
            if not body.replace:
                raise Conflict(
                    "an entry with this label exists with other tokens or rule; "
                    "send replace=true to overwrite it",
                    fields=[{"path": "label", "reason": "exists"}],
                )
            count = await repo.set_tokens(session, existing["id"], body.tokens)
            await repo.update_entry(
                session, existing["id"], {**rule.columns(), "token_count": count, "updated_at": now}
            )
            row = await repo.live_entry(session, lawyer, existing["id"])
            assert row is not None
            return entry_out(row, "replaced")
        await self._room_for_one(session, principal)
        entry_id = str(uuid.uuid4())
        await repo.insert_entry(
            session,
            {
                "id": entry_id,
                "lawyer_id": lawyer,
                "org_id": principal.partner_id,
                "label": body.label,
                **rule.columns(),
                "token_count": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        count = await repo.set_tokens(session, entry_id, body.tokens)
        await repo.update_entry(session, entry_id, {"token_count": count})
        row = await repo.live_entry(session, lawyer, entry_id)
        assert row is not None
        return entry_out(row, "created")

    async def _room_for_one(self, session: AsyncSession, principal: Principal) -> None:
        # Two concurrent adds may each see room for the last entry: a limit against bulk use,
        # not an exact count, so one over is acceptable.
        mine, theirs = await repo.live_counts(session, principal.client_id, principal.partner_id)
        if mine >= self.max_per_lawyer:
            raise WatchlistFull(f"this watchlist holds its limit of {self.max_per_lawyer} entries")
        if theirs >= self.max_per_partner:
            raise WatchlistFull(
                f"your organisation's watchlists hold their limit of {self.max_per_partner} entries"
            )

    async def list(
        self, principal: Principal, after: str | None, limit: int
    ) -> tuple[list[EntryOut], str | None]:
        """One page of the caller's entries after the id `after`; the last id when more follow."""
        async with self.sessions() as session:
            rows = await repo.list_entries(session, principal.client_id, after, limit + 1)
        rows, more = split_page(rows, limit)
        return [entry_out(r) for r in rows], rows[-1]["id"] if more else None

    async def get(self, principal: Principal, entry_id: str) -> EntryOut:
        """One of the caller's entries; anyone else's is not found."""
        async with self.sessions() as session:
            row = await repo.live_entry(session, principal.client_id, entry_id)
            held = await suppressions.of_entry(session, entry_id) if row is not None else []
        if row is None:
            raise NotFound("no such watchlist entry")
        out = entry_out(row)
        out.suppressions = [
            SuppressionOut(
                id=s["id"],
                alert_id=s["alert_id"],
                created_at=_utc(s["created_at"]),
                created_by=s["created_by"],
                suppressed=s["suppressed"],
                last_suppressed_at=_utc(s["last_suppressed_at"]),
            )
            for s in held
        ]
        return out

    async def lift(self, principal: Principal, entry_id: str, suppression_id: str) -> None:
        """Lift a "not my client" suppression: reports about that person alert the entry again."""
        async with transaction(self.sessions) as session:
            row = await repo.live_entry(session, principal.client_id, entry_id)
            now = self.clock.now()
            if row is None or not await suppressions.lift(
                session, entry_id, suppression_id, principal.client_id, now
            ):
                raise NotFound("no such suppression")

    async def remove(self, principal: Principal, entry_id: str) -> None:
        """Remove one of the caller's entries; its tokens leave the index at once."""
        async with transaction(self.sessions) as session:
            now = self.clock.now()
            if not await repo.remove_entry(session, principal.client_id, entry_id, now):
                raise NotFound("no such watchlist entry")
