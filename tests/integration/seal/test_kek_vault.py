"""The Vault-transit KEK provider against a real HTTP server speaking the transit API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.crypto.errors import (
    DecryptionFailed,
    KekVersionUnavailable,
    KeyStoreError,
    KmsRefused,
    KmsUnreachable,
)
from libs.common.crypto.kek import KekProvider, KekState, WrappedKey, primary_version, rewrap
from libs.common.crypto.kek_vault import VaultTransitKekProvider
from tests.support.transit import ROOT, TransitServer

AAD = b"lifeline/test/report-1"
KEY = "lifeline-test"


@pytest.fixture
def transit() -> Iterator[TransitServer]:
    with TransitServer({"root-token": ROOT, "svc-token": frozenset({"decrypt"})}) as server:
        server.handle("POST", "root-token", "keys", KEY, {})
        yield server


def _provider(
    server: TransitServer, tmp_path: Path, token: str = "root-token"
) -> VaultTransitKekProvider:
    token_file = tmp_path / f"{token}.txt"
    token_file.write_text(token + "\n")
    return VaultTransitKekProvider(server.url, KEY, token_file)


def test_wrap_unwrap_round_trip_binds_the_aad(transit: TransitServer, tmp_path: Path) -> None:
    provider = _provider(transit, tmp_path)
    assert isinstance(provider, KekProvider)
    data_key = os.urandom(32)
    wrapped = provider.wrap(data_key, AAD)
    assert wrapped.kek_version == 1 and wrapped.ciphertext.startswith(b"vault:v1:")
    assert data_key not in wrapped.ciphertext
    assert provider.unwrap(wrapped, AAD) == data_key
    # The stored form round-trips, as the vault keeps it in a row.
    assert provider.unwrap(WrappedKey.from_bytes(wrapped.to_bytes()), AAD) == data_key
    with pytest.raises(DecryptionFailed) as refused:
        provider.unwrap(wrapped, b"lifeline/test/report-2")
    assert type(refused.value) is DecryptionFailed
    # The version the row claims must be the one the ciphertext names.
    with pytest.raises(DecryptionFailed):
        provider.unwrap(WrappedKey(2, wrapped.ciphertext), AAD)
    middle = len(wrapped.ciphertext) // 2
    flipped = b"B" if wrapped.ciphertext[middle : middle + 1] == b"A" else b"A"
    tampered = wrapped.ciphertext[:middle] + flipped + wrapped.ciphertext[middle + 1 :]
    with pytest.raises(DecryptionFailed):
        provider.unwrap(WrappedKey(1, tampered), AAD)


def test_rotation_stage_promote_rewrap_retire(transit: TransitServer, tmp_path: Path) -> None:
    provider = _provider(transit, tmp_path)
    old = provider.wrap(os.urandom(32), AAD)
    assert provider.stage() == 2
    states = [(v.version, v.state, v.primary) for v in provider.versions()]
    assert states == [(1, KekState.ACTIVE, True), (2, KekState.STAGED, False)]
    # Staged: nothing is wrapped under it yet, the rotation did not move the primary.
    assert provider.wrap(os.urandom(32), AAD).kek_version == 1
    provider.promote(2)
    assert primary_version(provider) == 2
    moved = rewrap(provider, old, AAD)
    assert moved.kek_version == 2 and provider.unwrap(moved, AAD) == provider.unwrap(old, AAD)
    provider.retire(1)
    assert [(v.version, v.state) for v in provider.versions()] == [
        (1, KekState.RETIRED),
        (2, KekState.ACTIVE),
    ]
    with pytest.raises(KekVersionUnavailable):
        provider.unwrap(old, AAD)
    # Destroyed, not hidden: lowering the floor again in Vault brings nothing back.
    assert transit.keys[KEY].versions[0] is None
    assert ("POST", f"trim/{KEY}") in transit.requests


def test_what_vault_cannot_express_is_refused(transit: TransitServer, tmp_path: Path) -> None:
    provider = _provider(transit, tmp_path)
    provider.stage()
    provider.stage()
    provider.promote(3)
    with pytest.raises(KeyStoreError, match="oldest first"):
        provider.retire(2)
    with pytest.raises(KeyStoreError, match="only moves forward"):
        provider.promote(2)
    with pytest.raises(KeyStoreError, match="not below the primary"):
        provider.retire(3)
    with pytest.raises(KeyStoreError, match="cannot be promoted"):
        provider.promote(9)
    assert primary_version(provider) == 3


def test_a_bad_token_is_refused_clearly(transit: TransitServer, tmp_path: Path) -> None:
    wrapped = _provider(transit, tmp_path).wrap(os.urandom(32), AAD)
    stranger = _provider(transit, tmp_path, token="not-a-token")
    with pytest.raises(KmsRefused, match="permission denied") as refused:
        stranger.unwrap(wrapped, AAD)
    assert "not-a-token" not in str(refused.value)
    # The services' least-privilege token decrypts and does nothing else.
    service = _provider(transit, tmp_path, token="svc-token")
    assert len(service.unwrap(wrapped, AAD)) == 32
    with pytest.raises(KmsRefused, match="permission denied"):
        service.wrap(os.urandom(32), AAD)
    with pytest.raises(KmsRefused, match="permission denied"):
        service.stage()


def test_a_kms_that_is_down_is_unreachable_not_a_decryption_failure(
    transit: TransitServer, tmp_path: Path
) -> None:
    provider = _provider(transit, tmp_path)
    wrapped = provider.wrap(os.urandom(32), AAD)
    transit.stop()
    with pytest.raises(KmsUnreachable, match="unreachable"):
        provider.unwrap(wrapped, AAD)
    transit.start()
    assert len(provider.unwrap(wrapped, AAD)) == 32


def test_bad_configuration_is_a_clear_error(transit: TransitServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    with pytest.raises(ValueError, match="https"):
        VaultTransitKekProvider("http://kms.example.org:8200", KEY, token_file)
    with pytest.raises(ValueError, match="key name"):
        VaultTransitKekProvider(transit.url, "../sys/seal", token_file)
    missing = VaultTransitKekProvider(transit.url, KEY, token_file)
    with pytest.raises(KmsUnreachable, match="token file"):
        missing.versions()
    token_file.write_text("root-token")
    with pytest.raises(KmsRefused, match="no transit key"):
        VaultTransitKekProvider(transit.url, "no-such-key", token_file).versions()
