"""Revocation events and the in-memory list."""

from __future__ import annotations

import pytest

from libs.common.auth import Principal, RevocationKind, RevocationList, revocation_event_data
from libs.common.auth.wiring import ServiceAuth
from libs.common.errors import InvalidInput, Unauthenticated
from tests.unit.auth.helpers import ISSUER, NOW, Clock, make_env


def _principal(iat: int = NOW) -> Principal:
    return Principal(
        client_id="client-1",
        partner_id="org-a",
        scopes=frozenset({"reports:submit"}),
        jti="j",
        exp=iat + 600,
        iat=iat,
        issuer="iss",
        audiences=("lifeline-intake",),
        client_kid="ck1",
        signing_kid="sk1",
        role="submitter",
    )


def test_event_data_round_trip() -> None:
    data = revocation_event_data(RevocationKind.CLIENT, "client-1", NOW + 0.5, grace_seconds=0)
    assert data == {"kind": "client", "id": "client-1", "not_before": "2025-06-15T15:06:40.500000Z"}
    revocations = RevocationList(clock=Clock())
    revocations.apply(data)
    assert revocations.is_revoked(_principal(NOW))
    assert not revocations.is_revoked(_principal(NOW + 1))


def test_default_grace_covers_tokens_minted_just_after_the_revocation() -> None:
    revocations = RevocationList(clock=Clock())
    revocations.apply(revocation_event_data(RevocationKind.CLIENT, "client-1", NOW + 0.8))
    assert revocations.is_revoked(_principal(NOW + 1))  # minted at NOW+1.1 by another replica
    assert revocations.is_revoked(_principal(NOW + 2))
    assert not revocations.is_revoked(_principal(NOW + 3))


def test_epoch_seconds_are_accepted_too() -> None:
    revocations = RevocationList(clock=Clock())
    revocations.apply({"kind": "org", "id": "org-a", "not_before": NOW + 10})
    assert revocations.is_revoked(_principal(NOW))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "user", "id": "x", "not_before": NOW},
        {"kind": "client", "id": "", "not_before": NOW},
        {"kind": "client", "id": 5, "not_before": NOW},
        {"kind": "client", "id": "x" * 300, "not_before": NOW},
        {"kind": "client", "id": "x", "not_before": "yesterday"},
        {"kind": "client", "id": "x", "not_before": "2025-06-15T15:06:40"},
        {"kind": "client", "id": "x", "not_before": True},
        {"kind": "client", "id": "x", "not_before": float("nan")},
        {"kind": "client_key", "id": "../k", "not_before": NOW},
    ],
    ids=str,
)
def test_malformed_events_are_refused(data: dict[str, object]) -> None:
    revocations = RevocationList(clock=Clock())
    with pytest.raises(InvalidInput):
        revocations.apply(data)
    assert len(revocations) == 0


def test_later_revocation_wins_and_earlier_one_does_not_undo_it() -> None:
    revocations = RevocationList(clock=Clock())
    revocations.revoke(RevocationKind.CLIENT, "client-1", NOW + 100)
    revocations.revoke(RevocationKind.CLIENT, "client-1", NOW + 10)  # late, reordered delivery
    assert revocations.is_revoked(_principal(NOW + 50))


def test_entries_are_forgotten_once_affected_tokens_expired() -> None:
    clock = Clock()
    revocations = RevocationList(clock=clock)
    revocations.revoke(RevocationKind.CLIENT, "client-1", clock())
    clock.advance(901)
    revocations.revoke(RevocationKind.CLIENT, "client-2", clock())
    assert len(revocations) == 1


def test_revoked_signing_key_refuses_tokens_with_any_iat_forever() -> None:
    # With the signing key leaked, a forger can write an iat after the revocation.
    clock = Clock()
    revocations = RevocationList(clock=clock)
    revocations.apply(revocation_event_data(RevocationKind.SIGNING_KEY, "sk1", clock()))
    clock.advance(86400)
    revocations.revoke(RevocationKind.CLIENT, "client-9", clock())  # triggers pruning
    assert revocations.is_revoked(_principal(NOW + 86400))
    other = _principal(NOW + 86400)
    assert not revocations.is_revoked(
        Principal(**{**{f: getattr(other, f) for f in other.__slots__}, "signing_kid": "sk2"})
    )


def test_a_signing_key_revocation_is_forgotten_once_the_key_is_unpublished() -> None:
    revocations = RevocationList(clock=Clock())
    for kid in ("sk1", "sk2"):
        revocations.revoke(RevocationKind.SIGNING_KEY, kid, NOW)
    assert revocations.forget_signing_keys_except({"sk2", "sk3"}) == ["sk1"]
    assert not revocations.is_revoked(_principal())  # sk1: gone from the JWKS, moot
    sk2 = Principal(
        **{**{f: getattr(_principal(), f) for f in Principal.__slots__}, "signing_kid": "sk2"}
    )
    assert revocations.is_revoked(sk2)  # still published: still refused
    assert revocations.forget_signing_keys_except({"sk2"}) == []


async def test_a_key_refresh_forgets_revocations_of_keys_no_longer_published() -> None:
    env = make_env()
    auth = ServiceAuth(env.verifier, ISSUER, refresh_every=60)
    published = env.key.kid
    for kid in (published, env.other_key.kid):  # other_key is not in ISSUER's JWKS
        env.revocations.revoke(RevocationKind.SIGNING_KEY, kid, NOW)
    assert await auth.refresh_keys()
    assert len(env.revocations) == 1  # only the published key's revocation is kept
    token = env.token()
    with pytest.raises(Unauthenticated):
        await env.verifier.verify(token)  # under the revoked, still published key
    env.fetch.document = {"keys": "not a list"}  # a failed refresh forgets nothing
    env.revocations.revoke(RevocationKind.SIGNING_KEY, env.other_key.kid, NOW)
    assert not await auth.refresh_keys() and len(env.revocations) == 2
