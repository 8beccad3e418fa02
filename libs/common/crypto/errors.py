"""Crypto errors: each maps to an HTTP answer that never says which check failed."""

from __future__ import annotations

from libs.common.errors import LifelineError


class CryptoError(LifelineError):
    """Base of every crypto error; an unexpected one is a server fault (500)."""

    status = 500
    code = "crypto_error"


class DecryptionFailed(CryptoError):
    """A ciphertext, header, context or key did not check out; deliberately says no more (422)."""

    status = 422
    code = "decryption_failed"

    def __init__(self) -> None:
        # One fixed message for every cause, so neither an HTTP body nor a log line becomes an
        # oracle telling an attacker which byte or which binding was wrong.
        super().__init__("decryption failed")


class KekVersionUnavailable(DecryptionFailed):
    """The KEK version a data key was wrapped under is retired or unknown here."""


class InvalidKey(CryptoError):
    """A key in text or JWK form is malformed, of the wrong kind or of another suite (422)."""

    status = 422
    code = "invalid_key"


class WeakPublicKey(InvalidKey, ValueError):
    """A public key that is no key: non-canonical, off the curve, or of small order (422).

    Also a ValueError, so every parser that turns a bad key into its own error does so here too.
    """

    code = "weak_key"


class SignatureInvalid(CryptoError):
    """A signature does not verify under any trusted key for this purpose (422)."""

    status = 422
    code = "invalid_signature"

    def __init__(self) -> None:
        super().__init__("signature verification failed")


class KeyStoreError(CryptoError):
    """The key store is unusable (permissions, corrupt file) or a state change is refused."""

    status = 500
    code = "key_store_error"


class KmsUnreachable(CryptoError):
    """The external KMS cannot be reached or is not serving (sealed, standby): try again (503)."""

    status = 503
    code = "kms_unreachable"


class KmsRefused(CryptoError):
    """The external KMS answered but refused: a wrong or revoked token, a missing key (502)."""

    status = 502
    code = "kms_refused"
