"""Settings of the alerts service (environment variables prefixed `LIFELINE_ALERTS_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.auth.scopes import DEFAULT_ISSUER
from libs.common.settings import ServiceSettings
from services.alerts.alerts.domain import ReminderPolicy
from services.alerts.delivery.health.domain import HealthRules
from services.alerts.retention.domain import AlertsRetention

ENV_PREFIX = "LIFELINE_ALERTS_"


class AlertsSettings(ServiceSettings):
    """Configuration of one alerts process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    service_name: str = "alerts"
    port: int = 8103
    # Access tokens are accepted from this issuer, with keys from `sharing_url`'s JWKS.
    sharing_url: str = "http://127.0.0.1:8102"
    token_issuer: str = DEFAULT_ISSUER

    # Live watchlist entries a lawyer, and a partner's lawyers together, may hold: a caseload
    # is tens to hundreds of people; a list of thousands is a bulk import of a leak, not work.
    watchlist_max_per_lawyer: int = Field(default=1_000, ge=1)
    watchlist_max_per_partner: int = Field(default=10_000, ge=1)

    # How long matching waits for sharing to say which details a lawyer's organisation may see;
    # without an answer the alert goes out at once without them (docs/alerts.md, disclosure).
    disclosure_timeout_s: float = Field(default=1.0, gt=0, le=10)

    # Operators' addresses (comma-separated) for alarms such as bulk OPRF use, and their
    # OpenPGP key (armoured, a file) to encrypt them to; empty: alarms are only logged.
    operator_emails: str = ""
    operator_pgp_key_file: Path | None = None

    # --- alert delivery (see docs/alerts.md) ---
    # Where a lawyer opens the report: `{sharing_public_url}/v1/reports/{id}` (default sharing_url).
    sharing_public_url: str = ""
    # The web console (`{console_url}/alerts/{id}` signs the lawyer in and shows that alert);
    # when set, every link to an alert (email, webhook, the API's `report_url`) opens it there.
    console_url: str = ""
    smtp_host: str = ""  # empty: email channel disabled (deliveries fail and are recorded)
    # TLS to the SMTP server: `starttls` (port 587 unless set) or `tls` (implicit, 465); `none`
    # hands mail over in the clear (port 25): tests and a relay on this host only.
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_ca_file: Path | None = None  # the CA (PEM) of a private relay, instead of the system's
    smtp_from: str = "lifeline-alerts@localhost"
    smtp_username: str = ""
    smtp_password_file: Path | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # Seconds between webhook/email attempts; the last value repeats until `max_attempts`.
    retry_schedule_s: str = "1,2,4,8,15,30,60,120,300,600"
    retry_jitter: float = Field(default=0.2, ge=0, le=0.5)
    max_attempts: int = Field(default=30, ge=1)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    # Lawyers' webhooks must be https on public addresses unless this is set (tests, a LAN).
    webhook_allow_private: bool = False
    # Chat, push and SMS channels (docs/alerts.md §4). Their endpoints are the operator's own
    # configuration, trusted like the SMTP relay (private addresses allowed); an empty URL
    # leaves the channel unconfigured (its deliveries fail, are retried and recorded).
    # Signal: a signal-cli REST API (bbernhard/signal-cli-rest-api) and its registered number.
    signal_api_url: str = ""
    signal_number: str = ""
    signal_timeout_s: float = Field(default=5.0, gt=0)
    # Telegram's bot API (a local stand-in in tests); the bot token only from a file.
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token_file: Path | None = None
    telegram_timeout_s: float = Field(default=5.0, gt=0)
    # ntfy servers (comma-separated base URLs) the operator vouches for: reached on private
    # addresses too, and the only ones an acknowledge button may go through. Lawyers' other
    # servers follow the webhook's rules. The CA (PEM) of such a server, if private.
    ntfy_servers: str = ""
    ntfy_ca_file: Path | None = None
    ntfy_timeout_s: float = Field(default=5.0, gt=0)
    # An HTTP SMS gateway taking Sinch's batch shape (`{from, to[], body}`, bearer token).
    sms_gateway_url: str = ""
    sms_token_file: Path | None = None
    sms_sender: str = "Lifeline"
    sms_timeout_s: float = Field(default=5.0, gt=0)
    delivery_concurrency: int = Field(default=8, ge=1, le=64)
    delivery_poll_s: float = Field(default=1.0, gt=0)
    # A claimed delivery whose worker died is retried after this (same webhook-id).
    delivery_lease_s: float = Field(default=60.0, gt=0)
    escalation_poll_s: float = Field(default=1.0, gt=0)
    # Contact health: consecutive failed attempts that make a contact "failing" (its owner is
    # warned on another contact), how early an expiring OpenPGP key is warned of, and how often
    # the time-based check runs.
    contact_failing_after: int = Field(default=3, ge=1)
    contact_key_warn_days: float = Field(default=14.0, gt=0)
    contact_health_poll_s: float = Field(default=60.0, gt=0)
    # Length of the "minute" escalation settings are counted in. Escalation reads the clock
    # injected into `create_app`, so in-process tests move a fake one instead; only a network
    # of real processes, which cannot be handed a clock (the end-to-end journey), shrinks this.
    escalation_minute_s: float = Field(default=60.0, gt=0)
    # An acknowledged alert nobody resolved reminds its lawyer after this many (escalation)
    # minutes, then every REPEAT minutes (0: once), at most MAX times (0: never).
    resolve_reminder_minutes: int = Field(default=1440, ge=1)
    resolve_reminder_repeat_minutes: int = Field(default=1440, ge=0)
    resolve_reminder_max: int = Field(default=3, ge=0, le=100)
    # An ack link acts once and only this long (escalation goes on meanwhile).
    ack_link_ttl_s: int = Field(default=3600, ge=60)
    # The link key is replaced this often; the previous one verifies until its links expire,
    # so this is at least `ack_link_ttl_s`.
    ack_link_key_rotate_s: int = Field(default=86400, ge=60)
    # Shared by every replica (they must verify each other's ack links); default in data_dir.
    ack_link_key_file: Path | None = None
    secrets_key_file: Path | None = None

    # Retention (docs/alerts.md, "Retention"), in days; unset keeps for ever. A resolved or
    # withdrawn alert goes with its deliveries, attempts, matches and updates that long after
    # its last change (open and acknowledged ones never); delivery attempts and contact
    # warnings on their own periods. Each run prunes at most `retention_batch` of each.
    retention_alert_days: int | None = Field(default=None, ge=1, le=36_500)
    retention_attempt_days: int | None = Field(default=None, ge=1, le=36_500)
    retention_warning_days: int | None = Field(default=None, ge=1, le=36_500)
    retention_interval_s: float = Field(default=300.0, gt=0)
    retention_batch: int = Field(default=500, ge=1, le=10_000)

    @model_validator(mode="after")
    def _rotation_outlives_links(self) -> AlertsSettings:
        if self.ack_link_key_rotate_s < self.ack_link_ttl_s:
            # A key retired before its links expire would cut their lifetime short.
            raise ValueError("ack_link_key_rotate_s must be at least ack_link_ttl_s")
        return self

    @model_validator(mode="after")
    def _console_is_a_url(self) -> AlertsSettings:
        if self.console_url and not self.console_url.startswith(("https://", "http://")):
            # Links are built from it: a bare host would make every one of them relative.
            raise ValueError("console_url must be an http(s) URL")
        return self

    def resolved_secrets_key_file(self) -> Path:
        """The key that encrypts lawyers' webhook secrets at rest."""
        return self.secrets_key_file or self.data_dir / "keys" / "alerts-secrets.key"

    def resolved_ack_link_key_file(self) -> Path:
        """The ring of keys that sign ack links."""
        return self.ack_link_key_file or self.data_dir / "keys" / "alerts-ack-link-keys.key"

    def shared_key_files(self) -> tuple[Path, ...]:
        """What one replica saved or signed, another opens or verifies: both keys, the seal."""
        return (
            self.resolved_secrets_key_file(),
            self.resolved_ack_link_key_file(),
            self.resolved_seal_file(),
        )

    def retention(self) -> AlertsRetention:
        """The periods and the sweep's bounds."""
        return AlertsRetention(
            self.retention_alert_days,
            self.retention_attempt_days,
            self.retention_warning_days,
            self.retention_batch,
            self.retention_interval_s,
        )

    def reminder_policy(self) -> ReminderPolicy:
        """When acknowledged, unresolved alerts remind their lawyer."""
        return ReminderPolicy(
            self.resolve_reminder_minutes,
            self.resolve_reminder_repeat_minutes,
            self.resolve_reminder_max,
        )

    def operator_addresses(self) -> tuple[str, ...]:
        """The operators' addresses alarms are mailed to."""
        return tuple(a.strip() for a in self.operator_emails.split(",") if a.strip())

    def trusted_ntfy_servers(self) -> tuple[str, ...]:
        """The ntfy base URLs the operator allow-listed, without a trailing slash."""
        return tuple(u.strip().rstrip("/") for u in self.ntfy_servers.split(",") if u.strip())

    def health_rules(self) -> HealthRules:
        """When a contact counts as failing or its key as expiring."""
        return HealthRules(self.contact_failing_after, self.contact_key_warn_days * 86400)

    def retry_schedule(self) -> tuple[float, ...]:
        """The retry delays in seconds."""
        values = tuple(float(v) for v in self.retry_schedule_s.split(",") if v.strip())
        return values or (1.0,)

    def report_link(self, alert_id: str, report_id: str) -> str:
        """Where the lawyer opens what an alert reports: the alert in the console when there is
        one, else the report in sharing (a reports:read grant is needed to open it)."""
        console = self.console_link(alert_id)
        if console is not None:
            return console
        base = (self.sharing_public_url or self.sharing_url).rstrip("/")
        return f"{base}/v1/reports/{report_id}"

    def alert_link(self, alert_id: str) -> str:
        """Where the lawyer opens an alert: the console, else the alert in this API."""
        console = self.console_link(alert_id)
        if console is not None:
            return console
        return f"{self.resolved_public_url().rstrip('/')}/v1/alerts/{alert_id}"

    def console_link(self, alert_id: str) -> str | None:
        """The alert in the web console, or None when no console is configured."""
        if not self.console_url:
            return None
        return f"{self.console_url.rstrip('/')}/alerts/{alert_id}"
