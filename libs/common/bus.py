"""Who may do what on the event bus: each service's subjects, consumers and streams.

The table below is the whole least-privilege policy of NATS: `permissions` turns a role into
the `publish`/`subscribe` allow lists of its nats-server user (everything else is denied), and
each service creates only the streams and durable consumers named here. A service reads events
only through its own durables; nobody may read a stream directly (no `STREAM.MSG.GET`), and
each service's replies arrive on an inbox prefix no other service may subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from libs.common.subjects import (
    AUTH_REVOKED,
    DISCLOSURE_RPC,
    RELEASE_REQUESTED,
    REPORT_ERASED,
    REPORT_RECEIVED,
    REPORT_RELEASED,
    REPORT_STORED,
    STREAMS,
    SYSTEM_ALARM,
    SYSTEM_PING,
    SYSTEM_PRUNED,
    StreamSpec,
    stream_for,
)

JS_API = "$JS.API"
# A producer's certificate names it by this URI (SAN): only such a client may sign events.
URI_PREFIX = "urn:lifeline:producer:"


def producer_uri(service: str) -> str:
    """The SAN that names `service` as an event producer in its certificate."""
    return URI_PREFIX + service


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer: its name and the one subject it filters."""

    name: str
    subject: str
    # The stream it read before its subject moved to a stream of its own: a durable of the same
    # name may still wait there, with messages published before the move. Its service drains
    # it, then deletes it (`Runtime.consume`); the grants for it go once no bus has one.
    moved_from: str | None = None

    @property
    def stream(self) -> str:
        """The stream it reads."""
        return stream_for(self.subject).name


@dataclass(frozen=True)
class BusRole:
    """What one service does on the bus."""

    name: str
    publishes: tuple[str, ...]
    durables: tuple[Durable, ...]
    # Streams whose config it keeps current (updates when it drifts): those it publishes into.
    # Any stream it uses it may create, so that no service waits for another to start first;
    # creating cannot change a stream that exists.
    manages: tuple[str, ...]
    # Every service follows the revocation feed with short-lived consumers of its own.
    follows_revocations: bool = True
    # Subjects whose messages it erases from their stream once every reader has acknowledged
    # them (`readers`): it may delete messages there and see those readers' ack floors.
    erases: tuple[str, ...] = ()
    # Core NATS requests it serves (it may answer each request once, nothing else) and asks.
    answers: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()

    @property
    def inbox_prefix(self) -> str:
        """Where its request replies and pulled messages arrive; only it may subscribe there."""
        return f"_INBOX_{self.name}"

    def uses(self) -> tuple[StreamSpec, ...]:
        """The streams it publishes into or reads from."""
        read = {d.stream for d in self.durables}
        if self.follows_revocations:
            read.add(stream_for(AUTH_REVOKED).name)
        return tuple(spec for spec in STREAMS if spec.name in read or spec.name in self.manages)

    def durable(self, name: str) -> Durable:
        """Its durable called `name`; KeyError if the table does not grant it."""
        for durable in self.durables:
            if durable.name == name:
                return durable
        raise KeyError(f"{self.name} has no durable consumer {name!r} on the bus")


ROLES: dict[str, BusRole] = {
    role.name: role
    for role in (
        BusRole(
            "intake",
            publishes=(REPORT_RECEIVED, SYSTEM_PING),
            durables=(
                Durable("intake-receipts", REPORT_STORED),
                # An erased report can no longer be followed up (`services/intake/followups.py`).
                Durable("intake-erasures", REPORT_ERASED),
            ),
            manages=("LIFELINE_RECEIVED", "LIFELINE_SYSTEM"),
        ),
        BusRole(
            "sharing",
            publishes=(REPORT_STORED, REPORT_ERASED, REPORT_RELEASED, AUTH_REVOKED, SYSTEM_ALARM),
            durables=(
                Durable("sharing-vault", REPORT_RECEIVED, moved_from="LIFELINE_REPORTS"),
                Durable("sharing-releases", RELEASE_REQUESTED),
                Durable("sharing-system", SYSTEM_PING),
                # Other services' retention runs go into the one audit chain.
                Durable("sharing-pruned", SYSTEM_PRUNED),
            ),
            manages=("LIFELINE_REPORTS", "LIFELINE_AUTH"),
            # The sealed report must not outlive its delivery (`docs/bus.md`, erasure).
            erases=(REPORT_RECEIVED,),
            answers=(DISCLOSURE_RPC,),
        ),
        BusRole(
            "alerts",
            publishes=(RELEASE_REQUESTED, SYSTEM_PRUNED),
            durables=(
                Durable("alerts-reports", REPORT_RECEIVED, moved_from="LIFELINE_REPORTS"),
                Durable("alerts-erasures", REPORT_ERASED),
                Durable("alerts-releases", REPORT_RELEASED),
                Durable("alerts-system", SYSTEM_PING),
                Durable("alerts-alarms", SYSTEM_ALARM),
                # Revoked or seized lawyers are paged no more (besides refusing their tokens).
                Durable("alerts-revocations", AUTH_REVOKED),
            ),
            manages=(),
            asks=(DISCLOSURE_RPC,),
        ),
    )
}


def readers(subject: str) -> tuple[Durable, ...]:
    """Every durable, of any service, that reads `subject`."""
    return tuple(d for role in ROLES.values() for d in role.durables if d.subject == subject)


def _erase_allow(role: BusRole) -> list[str]:
    allow = []
    for subject in role.erases:
        stream = stream_for(subject).name
        # The stream holds this subject alone. The holder may delete or purge any message of it
        # (no worse than a reader that never stores), but still read none.
        allow += [f"{JS_API}.STREAM.MSG.DELETE.{stream}", f"{JS_API}.STREAM.PURGE.{stream}"]
        for d in readers(subject):
            # Copies published before the move wait on the old stream: erased there one by
            # one (it holds other subjects, so never purged), once the readers there have them.
            if d.moved_from:
                allow.append(f"{JS_API}.STREAM.MSG.DELETE.{d.moved_from}")
            if d not in role.durables:
                places = (d.stream, d.moved_from) if d.moved_from else (d.stream,)
                allow += [f"{JS_API}.CONSUMER.INFO.{place}.{d.name}" for place in places]
    return list(dict.fromkeys(allow))


def _publish_allow(role: BusRole) -> list[str]:
    allow = [*role.publishes, *role.asks, f"{JS_API}.INFO"]
    for spec in role.uses():
        allow += [f"{JS_API}.STREAM.{op}.{spec.name}" for op in ("INFO", "CREATE")]
    allow += [f"{JS_API}.STREAM.UPDATE.{stream}" for stream in role.manages]
    for d in role.durables:
        allow += [
            f"{JS_API}.CONSUMER.CREATE.{d.stream}.{d.name}",
            f"{JS_API}.CONSUMER.CREATE.{d.stream}.{d.name}.{d.subject}",
            f"{JS_API}.CONSUMER.INFO.{d.stream}.{d.name}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{d.stream}.{d.name}",
            f"$JS.ACK.{d.stream}.{d.name}.>",
        ]
        if d.moved_from:
            # Its old durable: read to the end, then deleted (never created: no CREATE).
            old = d.moved_from
            allow += [
                f"{JS_API}.STREAM.INFO.{old}",
                f"{JS_API}.CONSUMER.INFO.{old}.{d.name}",
                f"{JS_API}.CONSUMER.MSG.NEXT.{old}.{d.name}",
                f"{JS_API}.CONSUMER.DELETE.{old}.{d.name}",
                f"$JS.ACK.{old}.{d.name}.>",
            ]
    if role.follows_revocations:
        # Unnamed consumers on the revocation stream: it holds nothing but revocations, which
        # every service must see, so any consumer there reads only what its owner may read.
        auth = stream_for(AUTH_REVOKED).name
        allow += [
            f"{JS_API}.CONSUMER.CREATE.{auth}",
            f"{JS_API}.CONSUMER.INFO.{auth}.*",
            f"{JS_API}.CONSUMER.MSG.NEXT.{auth}.*",
        ]
    return list(dict.fromkeys(allow + _erase_allow(role)))


def permissions(role: BusRole) -> dict[str, Any]:
    """The role's nats-server `permissions` block (allow lists; all else is denied)."""
    granted: dict[str, Any] = {
        "publish": {"allow": _publish_allow(role)},
        "subscribe": {"allow": [f"{role.inbox_prefix}.>", *role.answers]},
    }
    if role.answers:
        # One reply to the inbox of each request it received, for as long as a request lives.
        granted["allow_responses"] = {"max": 1, "expires": "5s"}
    return granted


def role_of(service: str) -> BusRole | None:
    """The role of a service name, or None for a process the table does not know."""
    return ROLES.get(service)
