"""Alert test helpers: identity tokens, report events as their producers make them, a cuttable
TCP proxy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from libs.common.contracts import ReportErased, ReportReceived, new_event
from libs.common.crypto.encoding import b64u_encode
from libs.common.events import Envelope
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.identity.tokens import LocalEvaluator, tokenise
from tests.support.natsd import free_port
from tests.support.receivers import Hit, Mailbox, Receiver, receiver, smtp_server, until

__all__ = ["KEYS", "Hit", "Mailbox", "Receiver", "TcpProxy", "erased_event", "receiver",
           "report_event", "smtp_server", "tokens_for", "until"]  # fmt: skip

KEYS = {v: PrfKeyRing().add(v, new_seed()) for v in (1, 2)}


def tokens_for(name: str, dob: str | None, version: int = 1) -> list[dict[str, Any]]:
    """Identity tokens of (name, dob) made in process with the test PRF key of `version`."""
    key = KEYS[version]
    token_set = tokenise([(name, dob)], LocalEvaluator(key), key.version)[0]
    return [
        {"kind": t.kind.value, "version": t.key_version, "value": b64u_encode(t.value)}
        for t in sorted(token_set)
    ]


def report_event(
    tokens: list[dict[str, Any]],
    *,
    report_id: str | None = None,
    incident_type: str = "detention",
    legal_basis: str = "cis_interstate_search",
    country: str = "KG",
    facility_kind: str = "airport",
    received_at: datetime | None = None,
) -> Envelope:
    """A `report.received` event as intake publishes it (the sealed blob is opaque here)."""
    report_id = report_id or str(uuid.uuid4())
    data = {
        "report_id": report_id,
        "partner_id": "ngo-kg",
        "client_report_id": f"case-{report_id[:8]}",
        "incident_type": incident_type,
        "legal_basis": legal_basis,
        "country": country,
        "facility_kind": facility_kind,
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "received_at": (received_at or datetime.now(UTC)).isoformat(),
        "tlp": "AMBER",
        "tokens": tokens,
        "sealed": "c2VhbGVk",
    }
    return new_event(ReportReceived.model_validate(data), "intake", report_id, at=datetime.now(UTC))


def erased_event(report_id: str) -> Envelope:
    """A `report.erased` event as sharing publishes it after a crypto-shred."""
    return new_event(
        ReportErased(report_id=report_id, partner_id="ngo-kg"),
        "sharing",
        report_id,
        at=datetime.now(UTC),
    )


class TcpProxy:
    """A TCP forwarder we can cut: the database "goes away" for the service behind it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Accept and forward connections (again)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Refuse new connections and drop every open one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}
