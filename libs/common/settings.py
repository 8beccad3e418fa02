"""Settings base shared by every service: built once in `main()`/`create_app()` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common import bus


class ServiceSettings(BaseSettings):
    """Fields every service has; each service subclasses it with its own env prefix."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "lifeline"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # `/metrics` (Prometheus) on a listener of its own, never on the public port: unset, no
    # listener. Loopback by default; a deployment binds it where only its Prometheus reaches.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    data_dir: Path = Path("./data")
    database_url: str = ""
    # PostgreSQL connections one replica may hold: the pool, its overflow, and the pool of
    # whole blocking transactions (`Runtime.write`). 4 + 2 + 2 = 8, so every replica of the
    # deploy files, and one more of each during a rolling update, fit the server's default
    # `max_connections` of 100 (the arithmetic: deploy/README.md). SQLite ignores them.
    db_pool_size: int = Field(default=4, ge=1, le=100)
    db_max_overflow: int = Field(default=2, ge=0, le=100)
    db_write_pool_size: int = Field(default=2, ge=1, le=100)
    nats_url: str = "nats://127.0.0.1:4322"
    # Mutual TLS to NATS: the bus's CA, and this service's certificate and key (its identity on
    # the bus, mapped to its user and permissions). Unset: plain TCP, for a bus without auth.
    nats_ca_file: Path | None = None
    nats_cert_file: Path | None = None
    nats_key_file: Path | None = None
    # The Ed25519 key this service signs its events with and the bus CA's certificate for it
    # (`libs/common/provenance.py`); required on an authenticated bus if the service publishes.
    event_key_file: Path | None = None
    event_cert_file: Path | None = None
    # Revocation fails closed: a replica whose revocation feed has not been confirmed current
    # for this long trusts no token (intake, alerts: 503; sharing asks its registry).
    revocation_max_staleness_s: float = Field(default=10.0, gt=0, le=300)
    # A NATS server that goes silent (frozen, cut off) keeps its socket open: the service pings
    # it every `nats_ping_interval_s` and after `nats_max_outstanding_pings` unanswered pings
    # reconnects to another node, so a silent node stalls it for 10-15 s, not minutes.
    nats_ping_interval_s: float = Field(default=5.0, gt=0, le=120)
    nats_max_outstanding_pings: int = Field(default=2, ge=1, le=10)
    # One replica locally; production streams are replicated three times (R3). A change is
    # applied to existing streams too, by the services that manage them (`libs/common/bus.py`).
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # Traces go to this OTLP/HTTP collector (`<endpoint>/v1/traces`); unset (and no
    # OTEL_EXPORTER_OTLP_ENDPOINT), nothing is recorded (`libs/common/tracing.py`).
    otlp_endpoint: str = ""
    json_logs: bool = False
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How long an Idempotency-Key and its first answer are kept (`docs/api.md`).
    idempotency_ttl_s: int = Field(default=86_400, ge=60, le=30 * 86_400)
    public_url: str = ""
    # Key material at rest (docs/sealing.md): the seal file, by default `<data_dir>/seal.json`.
    # Without one the key files are plain, unless `require_seal`: then the service refuses to
    # start (the deploy files set it, so a production node never runs with plain keys).
    seal_file: Path | None = None
    require_seal: bool = False
    # The KMS unseal method: with a token file, a seal that has a KMS-wrapped root key unseals
    # itself at start (the KMS's URL and key name are in the seal file). `seal_kms_url`, if
    # set, must be the seal's: a seal file planted on the disk cannot send the token elsewhere.
    seal_kms_token_file: Path | None = None
    seal_kms_ca_file: Path | None = None
    seal_kms_url: str = ""
    # After a handler's 1st, 2nd … transient failure NATS redelivers the event this many seconds
    # later (the last delay repeats). The wait runs inside nats-server, in real time.
    consumer_retry_delays_s: tuple[Annotated[float, Field(ge=0)], ...] = Field(
        default=(0.2, 1.0, 2.0, 5.0, 10.0), min_length=1
    )

    @model_validator(mode="after")
    def _bus_identity_whole(self) -> ServiceSettings:
        files = (self.nats_ca_file, self.nats_cert_file, self.nats_key_file)
        if any(files) and not all(files):
            raise ValueError("nats_ca_file, nats_cert_file and nats_key_file are set together")
        if bool(self.event_key_file) != bool(self.event_cert_file):
            raise ValueError("event_key_file and event_cert_file are set together")
        role = bus.role_of(self.service_name)
        if self.nats_ca_file and not self.event_key_file and role and role.publishes:
            # Its consumers verify every event against the bus CA: unsigned would be refused.
            raise ValueError("on an authenticated bus this service needs event_key_file")
        return self

    def resolved_database_url(self) -> str:
        """The database URL; by default a SQLite file of this service in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    def db_max_connections(self) -> int:
        """The most PostgreSQL connections this replica opens."""
        return self.db_pool_size + self.db_max_overflow + self.db_write_pool_size

    def resolved_seal_file(self) -> Path:
        """Where the seal file is (it says how the root key is wrapped; not secret)."""
        return self.seal_file or self.data_dir / "seal.json"

    def shared_key_files(self) -> tuple[Path, ...]:
        """Key files every replica of this service must read the same copy of (the deploy
        files put them on storage all replicas share; `tests/deploy` checks it)."""
        return ()

    def resolved_public_url(self) -> str:
        """The URL other parts use to reach this service."""
        return self.public_url or f"http://{self.host}:{self.port}"
