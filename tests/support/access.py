"""Real access for tests: bootstrap sharing's first admin, register clients, get real tokens."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.scopes import TOKEN_PATH
from libs.sdk import TokenSource, generate_private_key, key_id, make_client_assertion, public_jwk
from services.sharing.settings import BOOTSTRAP_SECRET_FILE
from tests.support.auth import role_for

BOOTSTRAP_FILE = BOOTSTRAP_SECRET_FILE
REUSE_S = 20.0  # well inside a token's lifetime (sharing's default: 300 s)


@dataclass
class Client:
    """A registered API client with its private key, as a partner's program holds it."""

    sharing_url: str
    client_id: str
    partner_id: str
    key: Ed25519PrivateKey
    scopes: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kid(self) -> str:
        """The kid of the key (its RFC 7638 thumbprint)."""
        return key_id(self.key)

    @property
    def token_endpoint(self) -> str:
        """Sharing's token endpoint URL, as the client's assertions name it."""
        return self.sharing_url + TOKEN_PATH

    def assertion(self, **kwargs: Any) -> str:
        """A fresh client assertion signed with this client's key."""
        return make_client_assertion(
            self.key, self.kid, self.client_id, self.token_endpoint, **kwargs
        )

    def source(self, http: httpx.AsyncClient, **kwargs: Any) -> TokenSource:
        """A token source for this client."""
        return TokenSource(
            http,
            token_endpoint=self.token_endpoint,
            client_id=self.client_id,
            private_key=self.key,
            **kwargs,
        )

    async def token(self, http: httpx.AsyncClient, **kwargs: Any) -> str:
        """A fresh access token."""
        return await self.source(http, **kwargs).token()

    async def headers(self, http: httpx.AsyncClient, **kwargs: Any) -> dict[str, str]:
        """An Authorization header with a fresh access token."""
        return {"Authorization": f"Bearer {await self.token(http, **kwargs)}"}

    async def reused_headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        """An Authorization header with a token reused for up to `REUSE_S`, as a real client
        caches it (a fresh token per call would spend the token endpoint's per-client budget)."""
        cached = self.extra.get("reused")
        if cached is None or time.monotonic() - cached[1] > REUSE_S:
            cached = self.extra["reused"] = (await self.token(http), time.monotonic())
        return {"Authorization": f"Bearer {cached[0]}"}


async def bootstrap_admin(http: httpx.AsyncClient, sharing_url: str, data_dir: Path) -> Client:
    """The first administrator, created with the secret sharing wrote into its data dir."""
    secret = (data_dir / BOOTSTRAP_FILE).read_text().strip()
    key = generate_private_key()
    resp = await http.post(
        f"{sharing_url}/v1/admin/bootstrap", json={"secret": secret, "public_key": public_jwk(key)}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Client(sharing_url, body["client"]["id"], body["partner"]["id"], key, ("admin",))


async def admin_call(
    http: httpx.AsyncClient, admin: Client, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One admin API call (its token reused for a few seconds, as the CLI does)."""
    headers = await admin.reused_headers(http)
    return await http.request(method, f"{admin.sharing_url}{path}", headers=headers, **kwargs)


async def register_client(
    http: httpx.AsyncClient,
    admin: Client,
    scopes: Sequence[str],
    *,
    partner_id: str | None = None,
    partner_name: str = "Partner",
    key: Ed25519PrivateKey | None = None,
    role: str | None = None,
) -> Client:
    """A new client (of a new partner unless given) with a fresh registered key.

    Without `role`, the narrowest role whose bound holds `scopes` (tests name a role when the
    role itself is what they test).
    """
    if partner_id is None:
        resp = await admin_call(
            http, admin, "POST", "/v1/admin/partners", json={"name": partner_name}
        )
        assert resp.status_code == 201, resp.text
        partner_id = resp.json()["id"]
    resp = await admin_call(
        http,
        admin,
        "POST",
        "/v1/admin/clients",
        json={
            "partner_id": partner_id,
            "name": "client",
            "role": role or role_for(scopes),
            "scopes": list(scopes),
        },
    )
    assert resp.status_code == 201, resp.text
    client_id = resp.json()["id"]
    key = key or generate_private_key()
    resp = await admin_call(
        http,
        admin,
        "POST",
        f"/v1/admin/clients/{client_id}/keys",
        json={"public_key": public_jwk(key)},
    )
    assert resp.status_code == 201, resp.text
    return Client(admin.sharing_url, client_id, partner_id, key, tuple(scopes))
