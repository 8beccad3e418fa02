"""The attack suite over HTTP: the real token endpoint and real protected routes.

Every attempt must end in 401 (or 403 for a valid token lacking a scope) with the generic body;
never a 500, never a hint of which check failed. Forged access tokens are signed with sharing's
real signing key (read from its data dir), so only the claim or header under test is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from libs.common.auth.fastapi import route_scopes
from libs.common.auth.scopes import DEFAULT_ISSUER, TOKEN_PATH, WHOAMI_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.common.errors import problem
from services.sharing.access.tokens.keystore import SigningKeystore
from tests.integration.auth.conftest import Network, Sharing, running_sharing, sharing_settings
from tests.support.access import Client
from tests.support.natsd import NatsServer
from tests.support.problems import sameness
from tests.unit.auth.helpers import b64, forge

# The one answer to every failed check, whatever failed; only the request id differs.
ROUTE_401 = problem("unauthenticated", 401, "authentication required", request_id="any")
TOKEN_401 = {"error": "invalid_client", "error_description": "client authentication failed"}


NONE_ALGS = ["none", "None", "NONE", "nOnE"]
HS_ALGS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


# The tables share one stack per backend: each test registers fresh clients of its own.
@pytest.fixture
def sharing(module_sharing: Sharing) -> Sharing:
    """This module's shared sharing."""
    return module_sharing


@pytest.fixture
def network(module_network: Network) -> Network:
    """This module's shared network."""
    return module_network


def _hmac_forms(public: Ed25519PublicKey) -> dict[str, bytes]:
    """The public key in every form a confused verifier might use as an HMAC secret."""
    raw = public.public_bytes_raw()
    return {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "raw": raw,
        "jwk": json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}).encode(),
    }


def _hs_token(alg: str, secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = (
        f"{b64(json.dumps({**header, 'alg': alg}).encode())}.{b64(json.dumps(payload).encode())}"
    )
    mac = hmac.new(secret, signing_input.encode(), HS_ALGS[alg]).digest()
    return f"{signing_input}.{b64(mac)}"


# --- token endpoint: client assertions --------------------------------------------------------


def _assertion_claims(client: Client, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": client.token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": base64.urlsafe_b64encode(
            hashlib.sha256(str(time.time_ns()).encode()).digest()
        ).decode(),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _assertion_header(client: Client, **changes: Any) -> dict[str, Any]:
    return {"alg": "EdDSA", "typ": "client-authentication+jwt", "kid": client.kid, **changes}


async def _token_request(sharing: Sharing, assertion: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return await sharing.http.post(sharing.url + TOKEN_PATH, data=form)


async def _refused(sharing: Sharing, assertion: str) -> None:
    resp = await _token_request(sharing, assertion)
    assert resp.status_code == 401, resp.text
    assert sameness(resp) == TOKEN_401
    assert "access_token" not in resp.text


async def test_the_honest_assertion_works(sharing: Sharing) -> None:
    client = await sharing.client("reports:submit")
    token = forge(_assertion_header(client), _assertion_claims(client), client.key)
    assert (await _token_request(sharing, token)).status_code == 200


@pytest.mark.parametrize("alg", NONE_ALGS)
async def test_assertion_alg_none(sharing: Sharing, alg: str) -> None:
    client = await sharing.client("reports:submit")
    header, claims = _assertion_header(client, alg=alg), _assertion_claims(client)
    await _refused(sharing, forge(header, claims, None, signature=b"x"))
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."
    await _refused(sharing, unsigned)


@pytest.mark.parametrize("alg", sorted(HS_ALGS))
@pytest.mark.parametrize("form", ["pem", "der", "raw", "jwk"])
async def test_assertion_hmac_with_the_public_key(sharing: Sharing, alg: str, form: str) -> None:
    client = await sharing.client("reports:submit")
    secret = _hmac_forms(client.key.public_key())[form]
    await _refused(
        sharing, _hs_token(alg, secret, _assertion_header(client), _assertion_claims(client))
    )


async def test_assertion_naming_another_partners_key(sharing: Sharing) -> None:
    mine = await sharing.client("reports:submit")
    theirs = await sharing.client("reports:read")  # another partner
    header = _assertion_header(mine, kid=theirs.kid)
    await _refused(sharing, forge(header, _assertion_claims(mine), theirs.key))
    await _refused(sharing, forge(header, _assertion_claims(mine), mine.key))


@pytest.mark.parametrize(
    "kid", ["../../../etc/passwd", "' OR '1'='1' --", "k" * 10_000, "a/b", "kid\x00", ""]
)
async def test_assertion_with_a_hostile_kid(sharing: Sharing, kid: str) -> None:
    client = await sharing.client("reports:submit")
    await _refused(
        sharing, forge(_assertion_header(client, kid=kid), _assertion_claims(client), client.key)
    )


async def test_replayed_assertion_is_refused_also_after_a_restart(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"), wire=True)
    async with httpx.AsyncClient(timeout=10) as http:
        async with running_sharing(settings, http) as first:
            client = await first.client("reports:submit")
            assertion = client.assertion(lifetime=300)
            assert (await _token_request(first, assertion)).status_code == 200
            await _refused(first, assertion)
            unused_before_restart = client.assertion(lifetime=300)
            assert (await _token_request(first, unused_before_restart)).status_code == 200
        # Sharing restarts on the same database and data dir: the jtis are remembered.
        async with running_sharing(settings, http, first.admin) as again:
            await _refused(again, assertion)
            await _refused(again, unused_before_restart)
            assert (await _token_request(again, client.assertion())).status_code == 200


@pytest.mark.parametrize(
    "exp",
    ["missing", "1750000000", 1e30, -1, "+3600", True, None],
    ids=["missing", "string", "1e30", "negative", "too-far", "bool", "null"],
)
async def test_assertion_with_a_bad_exp(sharing: Sharing, exp: Any) -> None:
    client = await sharing.client("reports:submit")
    claims = _assertion_claims(client)
    if exp == "missing":
        del claims["exp"]
    elif exp == "+3600":
        claims["exp"] = claims["iat"] + 3600  # longer than the 300 s an assertion may live
    else:
        claims["exp"] = exp
    await _refused(sharing, forge(_assertion_header(client), claims, client.key))


async def test_assertion_with_duplicate_claims_utf16_or_crit(sharing: Sharing) -> None:
    client = await sharing.client("reports:submit")
    header = _assertion_header(client)
    claims = _assertion_claims(client)
    body = json.dumps(claims)
    duplicated = body[:-1] + f', "sub": "{client.client_id}"}}'
    await _refused(sharing, forge(header, duplicated.encode(), client.key))
    await _refused(sharing, forge(header, body.encode("utf-16"), client.key))
    await _refused(sharing, forge({**header, "crit": ["exp"], "exp": 1}, claims, client.key))
    await _refused(sharing, forge(header, {**claims, "pad": "x" * 9000}, client.key))


async def test_an_access_token_is_not_an_assertion(sharing: Sharing) -> None:
    client = await sharing.client("reports:submit")
    await _refused(sharing, await client.token(sharing.http))
    # Not even an at+jwt signed by the client itself.
    await _refused(
        sharing,
        forge(_assertion_header(client, typ="at+jwt"), _assertion_claims(client), client.key),
    )


@pytest.mark.parametrize(
    "state", ["expired_key", "revoked_key", "disabled_partner", "deleted_client"]
)
async def test_assertion_from_a_key_client_or_partner_no_longer_valid(
    sharing: Sharing, state: str
) -> None:
    client = await sharing.client("reports:submit")
    assertion = client.assertion()  # correctly signed by the key that was registered
    if state == "expired_key":
        await sharing.sql(
            "UPDATE client_keys SET not_after = :t WHERE kid = :k", t="2020-01-01", k=client.kid
        )
    elif state == "revoked_key":
        assert (
            await sharing.admin_call("POST", f"/v1/admin/keys/{client.kid}/revoke")
        ).status_code == 200
    elif state == "disabled_partner":
        path = f"/v1/admin/partners/{client.partner_id}/disable"
        assert (await sharing.admin_call("POST", path)).status_code == 200
    else:
        await sharing.sql("DELETE FROM client_keys WHERE client_id = :c", c=client.client_id)
        await sharing.sql("DELETE FROM api_clients WHERE id = :c", c=client.client_id)
    await _refused(sharing, assertion)


# --- protected routes: access tokens ---------------------------------------------------------


def _signing_key(sharing: Sharing) -> tuple[str, Ed25519PrivateKey]:
    active = SigningKeystore(sharing.settings.signing_key_file()).keyring().active()
    return active.kid, active.private_key


def _access(
    sharing: Sharing, client: Client, header: dict[str, Any] | None = None, **claims: Any
) -> str:
    """An access token signed by sharing's real key, with the given changes."""
    kid, key = _signing_key(sharing)
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": DEFAULT_ISSUER,
        "sub": client.client_id,
        "client_id": client.client_id,
        "org": client.partner_id,
        "aud": ["lifeline-intake", "lifeline-sharing", "lifeline-alerts"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "forged-" + str(time.time_ns()),
        "scope": "admin",
        "role": "operator",
        "client_kid": client.kid,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not DROP}
    return forge(header or {"alg": "EdDSA", "typ": "at+jwt", "kid": kid}, payload, key)


DROP = object()


async def _rejected(
    network: Network, token: str, services: tuple[str, ...] = ("sharing", "intake")
) -> None:
    for name in services:
        resp = await network.sharing.http.get(
            network.urls[name] + WHOAMI_PATH, headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 401, (name, resp.text)
        assert sameness(resp) == {k: v for k, v in ROUTE_401.items() if k != "request_id"}
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_a_well_forged_token_is_accepted_so_the_rejections_below_mean_something(
    network: Network,
) -> None:
    client = network.sharing.admin
    token = _access(network.sharing, client)
    for name in ("sharing", "intake", "alerts"):
        resp = await network.sharing.http.get(
            network.urls[name] + WHOAMI_PATH, headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 200, (name, resp.text)


@pytest.mark.parametrize("alg", NONE_ALGS)
async def test_access_token_alg_none(network: Network, alg: str) -> None:
    kid, _ = _signing_key(network.sharing)
    header = {"alg": alg, "typ": "at+jwt", "kid": kid}
    good = _access(network.sharing, network.sharing.admin)
    payload_segment = good.split(".")[1]
    await _rejected(network, f"{b64(json.dumps(header).encode())}.{payload_segment}.")
    await _rejected(network, f"{b64(json.dumps(header).encode())}.{payload_segment}.{b64(b'sig')}")


@pytest.mark.parametrize("alg", sorted(HS_ALGS))
@pytest.mark.parametrize("form", ["pem", "der", "raw", "jwk"])
async def test_access_token_hmac_with_sharings_public_key(
    network: Network, alg: str, form: str
) -> None:
    kid, key = _signing_key(network.sharing)
    good = _access(network.sharing, network.sharing.admin)
    payload = json.loads(base64.urlsafe_b64decode(good.split(".")[1] + "=="))
    secret = _hmac_forms(key.public_key())[form]
    await _rejected(network, _hs_token(alg, secret, {"typ": "at+jwt", "kid": kid}, payload))


@pytest.mark.parametrize("kid", ["../../jwks.json", "' OR 1=1 --", "k" * 10_000, "x" * 65])
async def test_access_token_with_a_hostile_kid(network: Network, kid: str) -> None:
    _, key = _signing_key(network.sharing)
    good = _access(network.sharing, network.sharing.admin)
    payload = json.loads(base64.urlsafe_b64decode(good.split(".")[1] + "=="))
    await _rejected(network, forge({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}, payload, key))


async def test_an_assertion_is_not_an_access_token(network: Network) -> None:
    client = network.sharing.admin
    await _rejected(network, client.assertion())


async def test_a_token_for_another_service_is_refused(network: Network) -> None:
    reader = await network.sharing.client("reports:read")  # a token for sharing only
    token = await reader.token(network.sharing.http)
    ok = await network.sharing.http.get(
        network.urls["sharing"] + WHOAMI_PATH, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 200
    await _rejected(network, token, services=("intake", "alerts"))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": DROP},
        {"exp": "1750000000"},
        {"exp": 1e30},
        {"exp": -5},
        {"exp": int(time.time()) + 3600},  # lifetime above the 600 s maximum
        {"iat": int(time.time()) + 3600, "nbf": DROP},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3900, "nbf": DROP},
        {"aud": ["lifeline-elsewhere"]},
        {"iss": "https://evil.example"},
        {"sub": "cli_someone_else"},
        {"client_kid": "../x"},
    ],
    ids=[
        "no-exp",
        "exp-string",
        "exp-1e30",
        "exp-negative",
        "too-long",
        "future-iat",
        "expired",
        "wrong-aud",
        "wrong-iss",
        "sub-mismatch",
        "bad-client-kid",
    ],
)
async def test_access_token_with_bad_claims(network: Network, claims: dict[str, Any]) -> None:
    await _rejected(network, _access(network.sharing, network.sharing.admin, **claims))


async def test_access_token_duplicate_claims_utf16_crit_and_size(network: Network) -> None:
    sharing = network.sharing
    kid, key = _signing_key(sharing)
    header = {"alg": "EdDSA", "typ": "at+jwt", "kid": kid}
    good = _access(sharing, sharing.admin)
    body = base64.urlsafe_b64decode(good.split(".")[1] + "==").decode()
    duplicated = body[:-1] + ', "scope": "admin"}'
    await _rejected(network, forge(header, duplicated.encode(), key))
    await _rejected(network, forge(header, body.encode("utf-16"), key))
    await _rejected(
        network, forge({**header, "crit": ["x-lifeline"], "x-lifeline": 1}, json.loads(body), key)
    )
    await _rejected(
        network, forge({**header, "jku": "http://127.0.0.1:1/jwks"}, json.loads(body), key)
    )
    await _rejected(network, _access(sharing, sharing.admin, pad="x" * 9000))


async def test_a_lawyers_token_gets_403_on_every_admin_route(network: Network) -> None:
    sharing = network.sharing
    lawyer = await sharing.client("watchlist:manage", "alerts:read", "alerts:ack")
    token = await lawyer.token(sharing.http)
    admin_routes = [
        name for name, scopes in route_scopes(sharing.app).items() if scopes == {"admin"}
    ]
    assert len(admin_routes) >= 14  # every admin route, plus the system routes
    for name in admin_routes:
        method, path = name.split(" ", 1)
        url = sharing.url + re.sub(r"\{[^}]+\}", "x", path)
        for headers, status in (({"Authorization": f"Bearer {token}"}, 403), ({}, 401)):
            resp = await sharing.http.request(method.split(",")[0], url, headers=headers, json={})
            assert resp.status_code == status, (name, resp.text)
            assert resp.json()["code"] == ("forbidden" if status == 403 else "unauthenticated")
    # And on the admin routes of the other services, with a token that is for them.
    alerts_token = await lawyer.token(sharing.http)
    resp = await sharing.http.get(
        network.urls["alerts"] + "/v1/system/events/x",
        headers={"Authorization": f"Bearer {alerts_token}"},
    )
    assert resp.status_code == 403, resp.text
    submitter = await sharing.client("reports:submit")
    resp = await sharing.http.post(
        network.urls["intake"] + "/v1/system/ping",
        headers={"Authorization": f"Bearer {await submitter.token(sharing.http)}"},
    )
    assert resp.status_code == 403, resp.text
