"""Sharing's signing keyring: publish before use, retire after the last token expires."""

from __future__ import annotations

import pytest

from libs.common.auth import (
    JwksCache,
    KeyringError,
    KeyState,
    SigningKey,
    SigningKeyring,
    TokenVerifier,
    mint_access_token,
)
from libs.common.auth.jwk import jwk_thumbprint
from tests.unit.auth.helpers import ISSUER, NOW, Clock


def _mint(keyring: SigningKeyring, now: float) -> str:
    key = keyring.active()
    return mint_access_token(
        key.private_key,
        key.kid,
        issuer=ISSUER,
        subject="client-1",
        audiences=["lifeline-intake"],
        scopes=["reports:submit"],
        lifetime=600,
        now=now,
        org="org-a",
        role="submitter",
        client_kid="ck1",
    )


def test_bootstrap_has_one_active_key_in_the_jwks() -> None:
    keyring = SigningKeyring.bootstrap(NOW)
    active = keyring.active()
    assert active.state is KeyState.ACTIVE
    (jwk,) = keyring.jwks()["keys"]
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwk["x"],
        "kid": active.kid,
        "use": "sig",
        "alg": "EdDSA",
    }
    assert jwk["kid"] == jwk_thumbprint(jwk)
    assert "d" not in jwk


def test_new_key_must_be_published_before_it_signs() -> None:
    keyring = SigningKeyring.bootstrap(NOW, min_publish_seconds=120)
    first = keyring.active()
    nxt = keyring.add_next(NOW + 10)
    assert nxt.kid in {k["kid"] for k in keyring.jwks()["keys"]}
    with pytest.raises(KeyringError):
        keyring.rotate(NOW + 100)
    assert keyring.active() is first
    keyring.rotate(NOW + 130)
    assert keyring.active() is nxt
    assert first.state is KeyState.RETIRING
    assert first.retire_after == NOW + 130 + 600 + 60


def test_retiring_key_stays_published_until_its_tokens_expire() -> None:
    keyring = SigningKeyring.bootstrap(NOW)
    old = keyring.active()
    keyring.add_next(NOW)
    keyring.rotate(NOW + 200)
    kids = lambda: {k["kid"] for k in keyring.jwks()["keys"]}  # noqa: E731
    assert old.kid in kids()
    assert keyring.prune(NOW + 200 + 659) == []
    assert keyring.prune(NOW + 200 + 660) == [old.kid]
    assert old.kid not in kids()


async def test_rotation_is_seamless_for_a_verifier() -> None:
    clock = Clock()
    keyring = SigningKeyring.bootstrap(clock())

    async def fetch() -> dict[str, object]:
        return keyring.jwks()

    jwks = JwksCache({ISSUER: fetch}, clock=clock)
    verifier = TokenVerifier(audience="lifeline-intake", jwks=jwks, clock=clock)
    before = _mint(keyring, clock())
    await verifier.verify(before)
    keyring.add_next(clock())
    clock.advance(60)
    await jwks.refresh(ISSUER)  # the periodic refresh learns the NEXT key in advance
    clock.advance(60)
    keyring.rotate(clock())
    after = _mint(keyring, clock())
    # No fetch is needed (or possible: the rate limit) and the old token still works.
    await verifier.verify(after)
    await verifier.verify(before)


def test_maintain_keeps_a_next_key_and_rotates_when_due() -> None:
    keyring = SigningKeyring.bootstrap(NOW)
    first = keyring.active()
    assert keyring.maintain(NOW) is True  # adds a NEXT key
    assert keyring.maintain(NOW + 60) is False
    keyring.maintain(NOW + 7 * 86400)
    assert keyring.active() is not first
    assert first.state is KeyState.RETIRING
    keyring.maintain(NOW + 7 * 86400 + 661)
    assert first.kid not in {k.kid for k in keyring.keys()}  # noqa: SIM118
    assert any(k.state is KeyState.NEXT for k in keyring.keys())  # noqa: SIM118


def test_keyring_refuses_inconsistent_state() -> None:
    a, b = SigningKey.generate(NOW), SigningKey.generate(NOW)
    a.state = b.state = KeyState.ACTIVE
    with pytest.raises(KeyringError):
        SigningKeyring([a, b])
    with pytest.raises(KeyringError):
        SigningKeyring([a, a])
    with pytest.raises(KeyringError):
        SigningKeyring().active()
