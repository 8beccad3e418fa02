"""The services' OpenAPI documents as apps built (not started) serve them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings

APPS: dict[str, tuple[Any, Any]] = {
    "sharing": (sharing_app, SharingSettings),
    "intake": (intake_app, IntakeSettings),
    "alerts": (alerts_app, AlertsSettings),
}


def service_document(service: str) -> dict[str, Any]:
    """The service's OpenAPI document from an app built but not started (for collection)."""
    create_app, settings_class = APPS[service]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            settings_class(
                data_dir=Path(tmp),
                nats_url="nats://127.0.0.1:4222",
                database_url=f"sqlite+aiosqlite:///{tmp}/unused.db",
            )
        )
        document: dict[str, Any] = app.openapi()
        return document
