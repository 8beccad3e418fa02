"""Small-order Ed25519 client keys: refused wherever they enter, and useless if already stored.

Under a small-order public key, the signature `R` = a small-order point, `S = 0` verifies for
every message (OpenSSL checks `[S]B = R + [k]A` without refusing such `A`), so whoever
registers one obtains tokens without holding any private key.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.jwk import b64url_encode, ed25519_public_jwk, ed25519_thumbprint
from libs.common.auth.scopes import TOKEN_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.sdk import generate_private_key, public_key_text
from services.sharing.access import repository as access_repo
from tests.integration.auth.conftest import Sharing, running_sharing, sharing_settings
from tests.support.access import BOOTSTRAP_FILE, Client
from tests.support.natsd import NatsServer
from tests.support.weak_keys import (
    ED25519_IDENTITY,
    ED25519_SMALL_ORDER_CANONICAL,
    ED25519_SMALL_ORDER_NON_CANONICAL,
)
from tests.unit.auth.helpers import forge

WEAK = [bytes.fromhex(h) for h in ED25519_SMALL_ORDER_CANONICAL]
FORMS = {
    "line": lambda raw: "ed25519:" + b64url_encode(raw),
    "jwk": lambda raw: {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)},
}


@pytest.fixture
def sharing(module_sharing: Sharing) -> Sharing:
    """This module's shared sharing (each test registers clients of its own)."""
    return module_sharing


def _assert_weak_key_refused(resp: httpx.Response) -> None:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "weak_key"
    assert [f["path"] for f in body["fields"]] == ["public_key"]


def _forged_assertion(client_id: str, kid: str, token_endpoint: str) -> str:
    """An assertion "signed" without any private key: R = the identity, S = 0."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": "EdDSA", "typ": "client-authentication+jwt", "kid": kid}
    return forge(header, claims, None, signature=ED25519_IDENTITY + bytes(32))


async def _plant_key(sharing: Sharing, client_id: str, raw: bytes) -> str:
    """Store a key behind the API's back, as one registered before keys were checked."""
    key = Ed25519PublicKey.from_public_bytes(raw)
    now = datetime.now(UTC)
    async with AsyncSession(sharing.engine) as session, session.begin():
        await access_repo.insert_key(
            session,
            kid=ed25519_thumbprint(key),
            client_id=client_id,
            public_jwk=ed25519_public_jwk(key),
            not_before=now - timedelta(minutes=1),
            not_after=now + timedelta(days=1),
            now=now,
        )
    return ed25519_thumbprint(key)


async def test_a_stored_small_order_key_gets_no_token_for_a_forged_assertion(
    sharing: Sharing,
) -> None:
    client = await sharing.client("reports:read")
    kid = await _plant_key(sharing, client.client_id, ED25519_IDENTITY)
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": _forged_assertion(
            client.client_id, kid, client.sharing_url + TOKEN_PATH
        ),
    }
    # Before the fix this answered 200 with an access token for the client.
    resp = await sharing.http.post(sharing.url + TOKEN_PATH, data=form)
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "invalid_client" and "access_token" not in resp.text
    # The client's real key still works, and an administrator can see and revoke the weak one.
    assert await client.token(sharing.http)
    listed = await sharing.admin_call("GET", f"/v1/admin/clients/{client.client_id}/keys")
    assert listed.status_code == 200 and kid in {k["kid"] for k in listed.json()}
    revoked = await sharing.admin_call("POST", f"/v1/admin/keys/{kid}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


@pytest.mark.parametrize("form", sorted(FORMS))
async def test_registering_a_small_order_key_is_refused(sharing: Sharing, form: str) -> None:
    client = await sharing.client("reports:read")
    path = f"/v1/admin/clients/{client.client_id}/keys"
    for raw in WEAK:
        resp = await sharing.admin_call("POST", path, json={"public_key": FORMS[form](raw)})
        _assert_weak_key_refused(resp)
    for hex_key in ED25519_SMALL_ORDER_NON_CANONICAL:
        resp = await sharing.admin_call(
            "POST", path, json={"public_key": FORMS[form](bytes.fromhex(hex_key))}
        )
        assert resp.status_code == 422 and resp.json()["code"] == "weak_key", resp.text
    keys = (await sharing.admin_call("GET", path)).json()
    assert [k["kid"] for k in keys] == [client.kid]  # nothing but the real key was stored


async def test_rotating_to_a_small_order_key_is_refused(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    for raw in WEAK:
        resp = await sharing.admin_call(
            "POST",
            f"/v1/admin/keys/{client.kid}/rotate",
            json={"public_key": FORMS["line"](raw)},
        )
        _assert_weak_key_refused(resp)
    assert await client.token(sharing.http)  # the old key was not revoked


async def test_bootstrapping_with_a_small_order_key_is_refused(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"), wire=False)
    async with httpx.AsyncClient(timeout=10) as http:
        nobody = Client("", "", "", generate_private_key(), ())  # not bootstrapped yet
        async with running_sharing(settings, http, nobody) as s:
            secret = (settings.data_dir / BOOTSTRAP_FILE).read_text().strip()
            url = s.url + "/v1/admin/bootstrap"
            for raw in WEAK:
                body = {"secret": secret, "public_key": FORMS["jwk"](raw)}
                _assert_weak_key_refused(await http.post(url, json=body))
            # The secret is still there: a refused key used nothing up.
            good = {"secret": secret, "public_key": public_key_text(generate_private_key())}
            assert (await http.post(url, json=good)).status_code == 201
