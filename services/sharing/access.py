"""Sharing as the access authority: wires the registry, token issuer, keys and admin API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI

from libs.common.auth.jwks import JwksFetch
from libs.common.auth.verifier import TokenVerifier
from libs.common.auth.wiring import ServiceAuth
from libs.common.outbox import OutboxRelay
from libs.common.runtime import Runtime
from services.sharing import api_admin, api_auth, api_client_keys
from services.sharing.bootstrap import Bootstrapper, BootstrapSecret, prepare_secret
from services.sharing.changes import Changes
from services.sharing.maintenance import Maintenance
from services.sharing.models import OUTBOX
from services.sharing.service_admin import AdminService
from services.sharing.service_keys import KeyService
from services.sharing.service_token import TokenIssuer
from services.sharing.settings import SharingSettings
from services.sharing.signing_keystore import SigningKeystore


def access_routers() -> list[APIRouter]:
    """Token endpoint, JWKS and the admin API."""
    return [api_auth.router, api_admin.router, api_client_keys.router]


def own_jwks(app: FastAPI) -> JwksFetch:
    """Sharing verifies its own tokens from its keyring file: no HTTP to itself."""

    async def fetch() -> Mapping[str, Any]:
        keystore: SigningKeystore = app.state.keystore
        return keystore.jwks()

    return fetch


async def start_access(
    app: FastAPI, runtime: Runtime, settings: SharingSettings, auth: ServiceAuth
) -> None:
    """Open the keyring, offer a bootstrap secret if needed, start the relay and upkeep."""
    keystore = SigningKeystore(
        settings.signing_key_file(), rotate_every=settings.signing_key_rotate_days * 86400
    )
    relay = OutboxRelay(runtime, OUTBOX)

    def revoked_here(data: dict[str, Any]) -> None:
        verifier: TokenVerifier = app.state.verifier
        verifier.revocations.apply(data)

    changes = Changes(runtime.sessions, on_revoked=revoked_here, wake_relay=relay.wake)
    secret = BootstrapSecret(settings.bootstrap_secret_file())
    await prepare_secret(runtime.sessions, secret, changes)
    app.state.keystore = keystore
    app.state.token_issuer = TokenIssuer(
        runtime.sessions,
        keystore,
        issuer=settings.token_issuer,
        token_endpoint=settings.token_endpoint(),
        lifetime=settings.access_token_lifetime,
    )
    app.state.admin = AdminService(changes)
    app.state.keys = KeyService(changes)
    app.state.bootstrapper = Bootstrapper(changes, secret)
    maintenance = Maintenance(runtime.sessions, keystore, interval=settings.maintenance_interval_s)
    runtime.spawn(relay.run(), "outbox-relay")
    runtime.spawn(maintenance.run(runtime.stop), "maintenance")
    auth.start(runtime)
