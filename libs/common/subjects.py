"""Event subjects and the stream layout every service agrees on (no pydantic: the supervisor and
the bus's certificate tools read them too)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REPORT_RECEIVED = "lifeline.report.received.v1"
REPORT_ERASED = "lifeline.report.erased.v1"
REPORT_STORED = "lifeline.report.stored.v1"
AUTH_REVOKED = "lifeline.auth.revoked.v1"
SYSTEM_PING = "lifeline.system.ping.v1"
# Something operators must hear about now (bulk OPRF use): alerts mails them.
SYSTEM_ALARM = "lifeline.system.alarm.v1"
# Another service's retention run pruned rows (alerts → sharing): sharing's audit chain keeps it.
SYSTEM_PRUNED = "lifeline.system.pruned.v1"
# A lawyer's organisation asks the submitter to release an alert's details (alerts → sharing),
# and the answer: fields released by a policy or the submitter, or a refusal (sharing → alerts).
RELEASE_REQUESTED = "lifeline.report.release_requested.v1"
REPORT_RELEASED = "lifeline.report.released.v1"
# Core NATS request/reply, on no stream: which alert fields may these organisations see?
DISCLOSURE_RPC = "lifeline.rpc.disclosure.v1"


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream every service agrees on, whoever starts first creates it."""

    name: str
    subjects: tuple[str, ...]
    max_age_s: int
    # Publish dedupe window for Nats-Msg-Id; consumers also dedupe by event id.
    duplicate_window_s: int = 2 * 3600


# The sealed reports have a stream of their own: once every reader has acknowledged all it
# holds, sharing's janitor purges it whole, which costs nats-server no rewrite (`docs/bus.md`,
# "What an erasure costs"). `LIFELINE_REPORTS` comes first: on a bus set up before the split it
# still captures `lifeline.report.>`, and it must let go of `report.received` (updated by the
# service that manages it) before `LIFELINE_RECEIVED` can be created.
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        "LIFELINE_REPORTS",
        (REPORT_STORED, REPORT_ERASED, RELEASE_REQUESTED, REPORT_RELEASED),
        max_age_s=14 * 86400,
    ),
    StreamSpec("LIFELINE_RECEIVED", (REPORT_RECEIVED,), max_age_s=14 * 86400),
    StreamSpec("LIFELINE_AUTH", ("lifeline.auth.>",), max_age_s=86400),
    StreamSpec("LIFELINE_SYSTEM", ("lifeline.system.>",), max_age_s=86400),
)


def stream_for(subject: str) -> StreamSpec:
    """The stream that captures a subject."""
    for spec in STREAMS:
        if captures(spec.subjects, subject):
            return spec
    raise KeyError(subject)


def captures(patterns: Iterable[str], subject: str) -> bool:
    """Whether any of these NATS subject patterns (`*` a token, `>` the rest) matches."""
    return any(_matches(pattern.split("."), subject.split(".")) for pattern in patterns)


def _matches(pattern: list[str], tokens: list[str]) -> bool:
    for i, part in enumerate(pattern):
        if part == ">":
            return len(tokens) > i
        if i >= len(tokens) or part not in ("*", tokens[i]):
            return False
    return len(pattern) == len(tokens)
