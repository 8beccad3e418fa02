"""The event contract: one envelope for every JetStream event (subjects: `libs.common.subjects`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class PermanentError(Exception):
    """The event can never be processed (e.g. its data breaks the contract): dead-letter it."""


class NotYet(Exception):
    """The event depends on another this service has not handled yet: retry, never dead-letter."""


class Envelope(BaseModel):
    """What every event looks like on the wire; `data` holds ids and tokens, never plaintext."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=128)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=64)
    correlation_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any]
    # Where its stream holds the message a consumer pulled: not part of the event, never sent.
    _stream_seq: int | None = PrivateAttr(default=None)
    _stream: str | None = PrivateAttr(default=None)

    @classmethod
    def delivered(cls, raw: bytes, stream_seq: int | None, stream: str | None = None) -> Envelope:
        """The event of a message a consumer pulled from `stream` at `stream_seq`."""
        event = cls.model_validate_json(raw)
        event._stream_seq, event._stream = stream_seq, stream
        return event

    @property
    def stream(self) -> str | None:
        """The stream a consumer pulled it from, if any."""
        return self._stream

    @property
    def stream_seq(self) -> int | None:
        """Its sequence in its stream, if a consumer pulled it from one (to erase it there)."""
        return self._stream_seq


def new_event(
    event_type: str,
    producer: str,
    data: dict[str, Any],
    correlation_id: str | None = None,
    *,
    at: datetime | None = None,
) -> Envelope:
    """A fresh envelope with a random id around raw `data`; the version is the subject's `.vN`.

    Services publish through `libs.common.contracts.new_event`, which checks the data against
    its subject's model; this raw form is for data no contract would accept (tests of poison).
    """
    version = int(event_type.rsplit(".v", 1)[1]) if ".v" in event_type else 1
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        version=version,
        occurred_at=at or datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id,
        data=data,
    )
