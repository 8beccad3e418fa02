"""Settings of the sharing service (environment variables prefixed `LIFELINE_SHARING_`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.auth.scopes import DEFAULT_ISSUER, TOKEN_PATH
from libs.common.reports.vocabulary import Tlp
from libs.common.settings import ServiceSettings
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.identity.quota import QuotaLimits
from services.sharing.retention.domain import MAX_DAYS, Periods, SweepLimits

ENV_PREFIX = "LIFELINE_SHARING_"
# In the data dir while no administrator exists; `lifeline admin init --data-dir` reads it.
BOOTSTRAP_SECRET_FILE = "admin-bootstrap-secret"  # noqa: S105 - a file name


class SharingSettings(ServiceSettings):
    """Configuration of one sharing process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    service_name: str = "sharing"
    port: int = 8102
    # Where the intake-sealing HPKE keys live (created with mode 0600 on first start).
    hpke_key_file: Path | None = None

    # OPRF quotas in elements (~7 per identity), per client and per partner, per clock hour
    # and UTC day, kept in the database (docs/identity.md says why these numbers). A client
    # or partner past `prf_alarm_fraction` of a daily quota raises the bulk-use alarm.
    prf_client_per_hour: int = Field(default=5_000, ge=1)
    prf_client_per_day: int = Field(default=10_000, ge=1)
    prf_partner_per_hour: int = Field(default=10_000, ge=1)
    prf_partner_per_day: int = Field(default=30_000, ge=1)
    prf_alarm_fraction: float = Field(default=0.8, gt=0, le=1)

    # Access tokens: who signs them (`iss`) and for how long they live (RFC 9068, <= 600 s).
    token_issuer: str = DEFAULT_ISSUER
    access_token_lifetime: int = Field(default=300, ge=30, le=600)
    # Token endpoint limits, in memory per replica (docs/auth.md): requests per source address,
    # tokens per client; X-Forwarded-For is believed only from these proxies (IPs or CIDRs).
    token_source_burst: int = Field(default=600, ge=1)
    token_source_per_second: float = Field(default=10.0, gt=0)
    token_client_burst: int = Field(default=120, ge=1)
    token_client_per_second: float = Field(default=2.0, gt=0)
    # Enrolment codes (docs/auth.md, "Enrolling a device"): how long one stays usable, and how
    # many codes one source address may try (floods only: a code cannot be guessed).
    # The web console (services/console): enrolment links open its page. Unset: `public_url`.
    console_url: str = ""
    enrolment_ttl_s: float = Field(default=900.0, ge=60, le=7 * 86_400)
    # An enrolled key not confirmed within this time is revoked when someone tries to.
    enrolment_confirm_within_s: float = Field(default=86_400.0, ge=60, le=30 * 86_400)
    enrol_source_burst: int = Field(default=30, ge=1)
    enrol_source_per_second: float = Field(default=0.2, gt=0)
    trusted_proxies: tuple[str, ...] = ()
    signing_key_rotate_days: float = Field(default=7.0, gt=0)
    maintenance_interval_s: float = Field(default=30.0, gt=0)
    # How often the bus janitor erases delivered `report.received` copies from the stream.
    bus_janitor_interval_s: float = Field(default=1.0, gt=0)

    # The vault: the local-file KEK provider's file (default under the data directory; keep it
    # out of the database's backups), and how long a replaced intake-sealing key must stay
    # before it may be retired (intake caches the public key for 300 s).
    kek_file: Path | None = None
    sealing_key_retire_grace_s: float = Field(default=900.0, ge=0)

    # Two-person approval (docs/auth.md, "Two-person approval"): each of these actions waits
    # until an operator other than the requester approves it. Off for the one-command demo
    # (one operator); `lifeline up --sealed` and deploy/ turn every one on.
    approval_key_registration: bool = False
    approval_policy_change: bool = False
    approval_erasure: bool = False
    approval_seizure_lift: bool = False
    # A pending approval nobody decided within this time expires (the request must be made anew).
    approval_ttl_s: float = Field(default=86_400.0, gt=0)

    # Retention (docs/vault.md, "Retention"): days a report is kept, network-wide and shorter
    # per TLP (JSON, e.g. `{"RED": 90}`); unset keeps for ever. A partner's own periods
    # override these. Read-log rows go after `retention_read_log_days`. Each sweep erases at
    # most `retention_batch` reports, one transaction each, and runs again at once if more wait.
    retention_report_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    retention_report_tlp_days: dict[Tlp, Annotated[int, Field(ge=1, le=MAX_DAYS)]] = {}
    retention_read_log_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    retention_interval_s: float = Field(default=300.0, gt=0)
    retention_batch: int = Field(default=100, ge=1, le=10_000)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            ipaddress.ip_network(proxy, strict=False)  # ValueError: refused at start
        return value

    def prf_quota(self) -> QuotaLimits:
        """The OPRF quota limits by (scope, span), in the order they are charged."""
        return QuotaLimits(
            {
                ("client", "hour"): self.prf_client_per_hour,
                ("client", "day"): self.prf_client_per_day,
                ("partner", "hour"): self.prf_partner_per_hour,
                ("partner", "day"): self.prf_partner_per_day,
            },
            self.prf_alarm_fraction,
        )

    def retention_limits(self) -> SweepLimits:
        """The network's periods and the sweep's bounds."""
        tlp = {t.value: d for t, d in self.retention_report_tlp_days.items()}
        return SweepLimits(
            Periods(self.retention_report_days, tlp),
            self.retention_read_log_days,
            self.retention_batch,
            self.retention_interval_s,
        )

    def approval_required(self) -> frozenset[ApprovalAction]:
        """The actions this deployment puts behind a second operator."""
        switches = {
            ApprovalAction.KEY_REGISTRATION: self.approval_key_registration,
            ApprovalAction.POLICY_CHANGE: self.approval_policy_change,
            ApprovalAction.ERASURE: self.approval_erasure,
            ApprovalAction.SEIZURE_LIFT: self.approval_seizure_lift,
        }
        return frozenset(action for action, on in switches.items() if on)

    def signing_key_file(self) -> Path:
        """Sharing's token-signing keyring (mode 0600, created on first start)."""
        return self.data_dir / "keys" / "sharing-signing.json"

    def bootstrap_secret_file(self) -> Path:
        """Where the one-time admin bootstrap secret waits while there is no administrator."""
        return self.data_dir / BOOTSTRAP_SECRET_FILE

    def token_endpoint(self) -> str:
        """The token endpoint URL clients put in their assertions' `aud` (byte for byte)."""
        return self.resolved_public_url().rstrip("/") + TOKEN_PATH

    def prf_key_file(self) -> Path:
        """Sharing's OPRF key seeds (mode 0600, created on first start)."""
        return self.data_dir / "keys" / "sharing-prf.json"

    def resolved_kek_file(self) -> Path:
        """The vault's KEK file (local-file provider; mode 0600, created on first start)."""
        return self.kek_file or self.data_dir / "keys" / "sharing-kek.json"

    def delivery_signing_key_file(self) -> Path:
        """The Ed25519 key that signs sealed deliveries (mode 0600, created on first start)."""
        return self.data_dir / "keys" / "sharing-delivery-signing.json"

    def audit_signing_key_file(self) -> Path:
        """The Ed25519 key that signs audit checkpoints (mode 0600, created on first start)."""
        return self.data_dir / "keys" / "sharing-audit-signing.json"

    def shared_key_files(self) -> tuple[Path, ...]:
        """Every key of the vault, the tokens and the audit log, and the seal that opens them."""
        return (
            self.signing_key_file(),
            self.prf_key_file(),
            self.resolved_kek_file(),
            self.delivery_signing_key_file(),
            self.audit_signing_key_file(),
            self.resolved_hpke_key_file(),
            self.resolved_seal_file(),
        )

    def resolved_hpke_key_file(self) -> Path:
        """The sealing-key file, by default under the data directory."""
        return self.hpke_key_file or self.data_dir / "keys" / "sharing-hpke.json"
