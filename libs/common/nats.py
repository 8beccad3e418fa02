"""NATS/JetStream glue: resilient connection, streams, durable pull consumers, publishing."""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import APIError, NotFoundError, ServiceUnavailableError

from libs.common import bus
from libs.common.events import Envelope
from libs.common.nats_health import cut_stuck_closes
from libs.common.provenance import EventSigner
from libs.common.secretfile import read_key_file
from libs.common.subjects import STREAMS, StreamSpec, stream_for

log = logging.getLogger(__name__)


def tls_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A client context that trusts only the bus's CA and presents this service's certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    # The key is opened in memory (it may be sealed); `ssl` loads keys only from files, so it
    # goes through a temporary file encrypted under a password that exists only in this process.
    password = secrets.token_bytes(32)
    key = serialization.load_pem_private_key(read_key_file(key_file), password=None)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.NamedTemporaryFile(prefix=".bus-key-", suffix=".pem") as tmp:
        tmp.write(pem)
        tmp.flush()
        context.load_cert_chain(str(cert_file), tmp.name, password=password)
    return context


async def connect(
    url: str,
    name: str,
    *,
    connect_timeout: float = 2.0,
    tls: ssl.SSLContext | None = None,
    inbox_prefix: str | None = None,
    ping_interval: float = 5.0,
    max_outstanding_pings: int = 2,
    reconnected: Callable[[], None] | None = None,
) -> NatsClient:
    """Connect and keep reconnecting forever: a service must outlive a NATS restart.

    A server that stops answering (frozen, partitioned) keeps the socket open, so only unanswered
    pings reveal it: after `max_outstanding_pings` of them, one every `ping_interval` seconds, the
    client drops it and reconnects to another server of the list (nats-py's defaults: 120 s, 2).
    `reconnected` is called after each reconnect.
    """
    cut_stuck_closes()
    nc = NatsClient()

    async def on_disconnect() -> None:
        # Our own close() calls this too; only a lost connection deserves a warning.
        if not nc.is_closed:
            log.warning("nats disconnected", extra={"service": name})

    async def on_reconnect() -> None:
        log.info("nats reconnected", extra={"service": name, "url": _server_of(nc)})
        if reconnected is not None:
            reconnected()

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"service": name, "reason": type(exc).__name__})

    # nats-py annotates these seconds as int, but takes floats (they go to asyncio timeouts).
    seconds: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        "reconnect_time_wait": 0.5,
        "ping_interval": ping_interval,
    }
    options: dict[str, Any] = {"inbox_prefix": inbox_prefix} if inbox_prefix else {}
    if tls is not None:
        options["tls"] = tls
    await nc.connect(
        # A cluster is given as a comma-separated list; the client wants one URL per server.
        servers=[u.strip() for u in url.split(",") if u.strip()],
        name=name,
        max_reconnect_attempts=-1,
        allow_reconnect=True,
        max_outstanding_pings=max_outstanding_pings,
        **seconds,
        **options,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
    )
    return nc


def _server_of(nc: NatsClient) -> str | None:
    """host:port of the server in use (never the URL: it may carry credentials)."""
    url = nc.connected_url
    return f"{url.hostname}:{url.port}" if url is not None else None


def _stream_config(spec: StreamSpec, replicas: int) -> js_api.StreamConfig:
    return js_api.StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=js_api.RetentionPolicy.LIMITS,
        storage=js_api.StorageType.FILE,
        num_replicas=replicas,
        max_age=float(spec.max_age_s),
        duplicate_window=float(spec.duplicate_window_s),
    )


# The parts of a stream's config a service keeps as configured.
_MANAGED = ("subjects", "num_replicas", "max_age", "duplicate_window")


def _drift(current: js_api.StreamConfig, wanted: js_api.StreamConfig) -> list[str]:
    """`field old->new` for each managed field that differs."""
    changes = []
    for name in _MANAGED:
        old, new = getattr(current, name), getattr(wanted, name)
        if name == "subjects":
            old = list(old or [])
        elif name == "num_replicas":
            old = old or 1  # the server's default
        if old != new:
            changes.append(f"{name} {old}->{new}")
    return changes


async def ensure_streams(
    js: JetStreamContext,
    replicas: int = 1,
    specs: Sequence[StreamSpec] = STREAMS,
    manages: Collection[str] | None = None,
) -> None:
    """Create each missing stream; update one whose config drifted if it is in `manages` (all
    by default). Safe for every replica to call."""
    for spec in specs:
        config = _stream_config(spec, replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            continue
        changes = _drift(info.config, config)
        if not changes or (manages is not None and spec.name not in manages):
            continue
        changed = ", ".join(changes)
        refused = await _update(js, config)
        if refused is None:
            log.info("stream config updated", extra={"stream": spec.name, "changed": changed})
        else:
            # Too few nodes for the replicas asked (or a change the server refuses): the stream
            # keeps working as it is, and so does the service; an operator has to act.
            log.error(
                "stream config not applied, the stream keeps its old one",
                extra={"stream": spec.name, "changed": changed, "reason": refused},
            )


async def _update(js: JetStreamContext, config: js_api.StreamConfig) -> str | None:
    """Apply `config` to its stream; the server's reason if it refuses."""
    try:
        await js.update_stream(config)
    except ServiceUnavailableError:
        raise  # JetStream between leaders: the caller's set-up tries again
    except APIError as exc:
        return exc.description or type(exc).__name__
    return None


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer a service owns."""

    durable: str
    filter_subject: str
    ack_wait_s: float = 30.0
    max_ack_pending: int = 1000
    linger_s: float = 0.0  # `ConsumerLoop.linger`: for events nobody waits on
    moved_from: str | None = None  # `bus.Durable.moved_from`: an old durable to drain first

    @classmethod
    def granted(cls, service: str, durable: str, **options: Any) -> ConsumerSpec:
        """The durable the bus's policy grants `service` (`libs/common/bus.py`), by name."""
        role = bus.role_of(service)
        if role is None:
            raise KeyError(f"{service} has no role on the bus")
        granted = role.durable(durable)
        return cls(durable, granted.subject, moved_from=granted.moved_from, **options)


async def ensure_pull_consumer(
    js: JetStreamContext, spec: ConsumerSpec
) -> JetStreamContext.PullSubscription:
    """Create or update the durable with `add_consumer`, then bind to it.

    `pull_subscribe(durable=...)` silently keeps the config of an existing durable, so a changed
    filter or ack wait would never take effect; `add_consumer` with a name creates or updates it.
    """
    stream = stream_for(spec.filter_subject).name
    config = js_api.ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        filter_subject=spec.filter_subject,
        ack_policy=js_api.AckPolicy.EXPLICIT,
        deliver_policy=js_api.DeliverPolicy.ALL,
        ack_wait=spec.ack_wait_s,
        # Unlimited at the server: the consumer loop decides what is poison (see consumer.py),
        # so a database outage never exhausts deliveries and loses an event.
        max_deliver=-1,
        max_ack_pending=spec.max_ack_pending,
    )
    await js.add_consumer(stream, config)
    return await js.pull_subscribe_bind(durable=spec.durable, stream=stream)


def envelope_bytes(event: Envelope) -> bytes:
    """Wire form of an event."""
    return event.model_dump_json().encode()


async def publish(
    js: JetStreamContext,
    event: Envelope,
    timeout: float = 5.0,
    signer: EventSigner | None = None,
) -> int:
    """Publish with `Nats-Msg-Id` = event id so a retried publish is stored once; returns seq."""
    payload = envelope_bytes(event)
    headers = {"Nats-Msg-Id": event.id}
    if signer is not None:
        headers |= signer.headers(event.type, payload)
    ack = await js.publish(event.type, payload, timeout=timeout, headers=headers)
    return int(ack.seq)


async def wait_connected(nc: NatsClient, timeout: float) -> bool:
    """True once the client is connected, False after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not nc.is_connected:
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
