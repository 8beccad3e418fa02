"""What `lifeline up` runs with: the network's configuration and each service's environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lifeline.bus_pki import BusFiles
from lifeline.sealing import KmsOptions
from services.sharing.approvals.domain import APPROVAL_SETTINGS

# Where each part's `/metrics` listener is by default (the public ports are 81xx).
METRICS_PORTS = {"console": 9100, "intake": 9101, "sharing": 9102, "alerts": 9103}


@dataclass(frozen=True)
class NetworkConfig:
    """Where everything listens and lives."""

    data_dir: Path
    host: str = "127.0.0.1"
    nats_port: int = 4322
    ports: dict[str, int] = field(
        default_factory=lambda: {"console": 8100, "intake": 8101, "sharing": 8102, "alerts": 8103}
    )
    # Each part's `/metrics` listener: loopback whatever `host` is (scrapers run here).
    metrics_host: str = "127.0.0.1"
    metrics_ports: dict[str, int] = field(default_factory=lambda: dict(METRICS_PORTS))
    json_logs: bool = False
    log_level: str = "INFO"
    ready_timeout: float = 30.0
    # Sealed: services wait for `lifeline unseal`; else development mode (root key beside data).
    sealed: bool = False
    share_threshold: int = 3
    share_count: int = 5
    kms: KmsOptions = field(default_factory=KmsOptions)  # wraps a new seal; unseals services

    def url(self, service: str) -> str:
        """Base URL of a service."""
        return f"http://{self.host}:{self.ports[service]}"

    def metrics_url(self, service: str) -> str:
        """Where Prometheus scrapes a service."""
        return f"http://{self.metrics_host}:{self.metrics_ports[service]}/metrics"

    @property
    def nats_url(self) -> str:
        """URL of the embedded nats-server."""
        return f"nats://{self.host}:{self.nats_port}"

    @property
    def bus_files(self) -> BusFiles:
        """The bus's CA, certificates and nats-server configuration."""
        return BusFiles(self.data_dir / "bus")


def service_env(
    config: NetworkConfig, service: str, shared: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment of one service process: its settings under its own prefix."""
    prefix = f"LIFELINE_{service.upper()}_"
    bus = config.bus_files
    values = {
        "HOST": config.host,
        "PORT": str(config.ports[service]),
        "METRICS_HOST": config.metrics_host,
        "METRICS_PORT": str(config.metrics_ports[service]),
        "DATA_DIR": str(config.data_dir),
        "NATS_URL": config.nats_url,
        # The service's identity on the bus (see lifeline/bus_pki.py), made by `Network.start`.
        **{name.upper(): str(path) for name, path in bus.settings(service).items()},
        "JSON_LOGS": "true" if config.json_logs else "false",
        "LOG_LEVEL": config.log_level,
        "SHARING_URL": config.url("sharing"),
        "INTAKE_URL": config.url("intake"),
        "ALERTS_URL": config.url("alerts"),
        # Links for people (enrolment, alerts) open the console.
        "CONSOLE_URL": config.url("console"),
    }
    # The caller's own LIFELINE_* settings (e.g. SMTP for alerts) pass through; ours win.
    env = dict(os.environ)
    env.update({prefix + k: v for k, v in values.items()})
    # Shared values are keyed "<SERVICE>_<SETTING>" and given to that service only.
    for key, value in (shared or {}).items():
        if key.startswith(service.upper() + "_"):
            env["LIFELINE_" + key] = value
    if config.sealed and service == "sharing":
        # The production configuration puts every gated action behind a second operator
        # (docs/auth.md); an operator's own LIFELINE_SHARING_APPROVAL_* still decides.
        for name in APPROVAL_SETTINGS:
            env.setdefault(prefix + name, "true")
    return env


def console_env(config: NetworkConfig) -> dict[str, str]:
    """Environment of the console process: where it listens and where the services are."""
    values = {
        "HOST": config.host,
        "PORT": str(config.ports["console"]),
        "METRICS_HOST": config.metrics_host,
        "METRICS_PORT": str(config.metrics_ports["console"]),
        "DATA_DIR": str(config.data_dir),
        "JSON_LOGS": "true" if config.json_logs else "false",
        "LOG_LEVEL": config.log_level,
        "SHARING_URL": config.url("sharing"),
        "INTAKE_URL": config.url("intake"),
        "ALERTS_URL": config.url("alerts"),
    }
    env = dict(os.environ)
    env.update({"LIFELINE_CONSOLE_" + k: v for k, v in values.items()})
    return env
