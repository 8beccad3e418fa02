"""The KMS unseal method: the root key wrapped by a Vault transit key, and a service that
unseals itself with it at start, retrying while the KMS is unreachable.

The wrap's associated data binds the seal's check value, so a KMS-wrapped root key copied
from another seal file does not open here even with a token that may decrypt it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from libs.common.crypto.encoding import encode_context
from libs.common.crypto.errors import CryptoError, DecryptionFailed, KmsUnreachable
from libs.common.crypto.kek import WrappedKey
from libs.common.crypto.kek_vault import VaultTransitKekProvider, check_kms_url, ciphertext_version
from libs.common.seal.domain import check_value
from libs.common.seal.sealfile import SealDocument
from libs.common.seal.service import Unsealer, UnsealRefused

if TYPE_CHECKING:  # settings load pydantic: `lifeline up`'s supervisor needs none of it
    from libs.common.settings import ServiceSettings

log = logging.getLogger(__name__)

# While the KMS is unreachable: try again after 0.5 s, doubling up to every 10 s.
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 10.0


def kms_aad(check: str) -> bytes:
    """What the KMS binds to the wrapped root key: this seal's check value."""
    return encode_context("lifeline/seal/v1/kms-wrap", check=check)


def wrapper(provider: VaultTransitKekProvider) -> Callable[[bytes], dict[str, str]]:
    """For `sealfile.create`: the seal's `kms` entry of a new root key."""

    def wrap(root: bytes) -> dict[str, str]:
        wrapped = provider.wrap(root, kms_aad(check_value(root)))
        return {"url": provider.url, "key": provider.key, "wrapped": wrapped.ciphertext.decode()}

    return wrap


def unwrap_root(provider: VaultTransitKekProvider, document: SealDocument) -> bytes:
    """The root key from the KMS (the caller checks it against the seal)."""
    assert document.kms is not None
    text = document.kms["wrapped"]
    wrapped = WrappedKey(ciphertext_version(text), text.encode("ascii", "replace"))
    return provider.unwrap(wrapped, kms_aad(document.check))


def service_provider(settings: ServiceSettings, document: SealDocument) -> VaultTransitKekProvider:
    """The seal's KMS with this service's token; ValueError if the seal names another KMS."""
    assert document.kms is not None and settings.seal_kms_token_file is not None
    url = check_kms_url(document.kms["url"])
    if settings.seal_kms_url and check_kms_url(settings.seal_kms_url) != url:
        raise ValueError(f"the seal names the KMS {url}, this service is configured for another")
    return VaultTransitKekProvider(
        url, document.kms["key"], settings.seal_kms_token_file, ca_file=settings.seal_kms_ca_file
    )


async def unseal_with_kms(unsealer: Unsealer, settings: ServiceSettings) -> None:
    """Ask the KMS for the root key until it answers; a refusal leaves the service sealed."""
    try:
        provider = service_provider(settings, unsealer.document)
    except ValueError as exc:
        _refused(str(exc))
        return
    try:
        await _until_unsealed(unsealer, provider)
    finally:
        provider.close()


async def _until_unsealed(unsealer: Unsealer, provider: VaultTransitKekProvider) -> None:
    delay, attempt = FIRST_RETRY_S, 1
    while not unsealer.unsealed.is_set():
        try:
            # The provider is synchronous (the KekProvider protocol is): off the event loop.
            root = await asyncio.to_thread(unwrap_root, provider, unsealer.document)
        except KmsUnreachable as exc:
            log.warning(
                "KMS unreachable: still sealed, retrying",
                extra={"reason": exc.detail, "attempt": attempt, "url": provider.url},
            )
            await asyncio.sleep(delay)
            delay, attempt = min(delay * 2, MAX_RETRY_S), attempt + 1
            continue
        except DecryptionFailed:
            _refused("the KMS does not open this seal's wrapped root key")
            return
        except CryptoError as exc:
            _refused(exc.detail)
            return
        if unsealer.unsealed.is_set():  # a passphrase or shares got there first
            return
        try:
            unsealer.accept_root(root)
        except UnsealRefused as exc:
            _refused(exc.detail)
            return
        log.info("unsealed", extra={"reason": "kms", "url": provider.url})


def _refused(reason: str) -> None:
    log.error(
        "KMS unseal refused: the service stays sealed (unseal it with the passphrase or shares)",
        extra={"reason": reason},
    )
