"""Settings of the intake service (environment variables prefixed `LIFELINE_INTAKE_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.auth.scopes import DEFAULT_ISSUER
from libs.common.settings import ServiceSettings

ENV_PREFIX = "LIFELINE_INTAKE_"


class IntakeSettings(ServiceSettings):
    """Configuration of one intake process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    service_name: str = "intake"
    port: int = 8101

    sharing_url: str = "http://127.0.0.1:8102"
    # Access tokens are accepted from this issuer, with keys from `sharing_url`'s JWKS.
    token_issuer: str = DEFAULT_ISSUER
    # Fingerprints of sharing's sealing keys this intake trusts (comma-separated, for rotation).
    sharing_hpke_fingerprints: str = ""
    # Per client: a burst of `rate_burst` reports, refilled at `rate_per_second`.
    rate_burst: int = Field(default=200, ge=1)
    rate_per_second: float = Field(default=100.0, gt=0)
    relay_interval_s: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # The key of the content digest that tells a client's retry (200 `duplicate`) from a changed
    # report (409). Every replica must hold the same one, or a retry that reaches another
    # replica is a conflict: a versioned key file (libs.common.secretkey); default in data_dir.
    content_mac_key_file: Path | None = None

    def resolved_content_mac_key_file(self) -> Path:
        """Where the content-MAC key is."""
        return self.content_mac_key_file or self.data_dir / "keys" / "intake-content-mac.key"

    def shared_key_files(self) -> tuple[Path, ...]:
        """The content-MAC key, and the seal that opens it."""
        return (self.resolved_content_mac_key_file(), self.resolved_seal_file())

    def pinned_fingerprints(self) -> frozenset[str]:
        """The pinned sealing-key fingerprints, normalised."""
        return frozenset(
            normalise_fingerprint(f) for f in self.sharing_hpke_fingerprints.split(",") if f.strip()
        )


def normalise_fingerprint(text: str) -> str:
    """Fingerprints are read aloud in groups; compare them without spaces, in lower case."""
    return "".join(text.split()).lower()
