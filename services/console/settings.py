"""Settings of the console (environment variables prefixed `LIFELINE_CONSOLE_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings

ENV_PREFIX = "LIFELINE_CONSOLE_"
# Where `make install` builds the front end (services/console/web, `npm run build`).
BUILT_ASSETS = Path(__file__).parent / "web" / "dist"


class ConsoleSettings(ServiceSettings):
    """Configuration of one console process: where the services are, and what it serves."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    service_name: str = "console"
    port: int = 8100

    # The services the browser reaches through `/api/<service>/…` (their internal addresses).
    sharing_url: str = "http://127.0.0.1:8102"
    alerts_url: str = "http://127.0.0.1:8103"
    intake_url: str = "http://127.0.0.1:8101"
    # The built front end (index.html and assets/); another directory for a packaged build.
    assets_dir: Path = BUILT_ASSETS
    # A report upload in one request may be large; every service still applies its own limit.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    upstream_timeout_s: float = Field(default=30.0, gt=0, le=300)

    def upstreams(self) -> dict[str, str]:
        """Service name -> base URL, for the API proxy."""
        return {
            "sharing": self.sharing_url.rstrip("/"),
            "alerts": self.alerts_url.rstrip("/"),
            "intake": self.intake_url.rstrip("/"),
        }
