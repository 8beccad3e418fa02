"""Lifeline client SDK: key material, client assertions and access tokens."""

from libs.sdk.auth import (
    BearerAuth,
    TokenRequestError,
    TokenSource,
    make_client_assertion,
)
from libs.sdk.credentials import (
    CredentialError,
    fingerprint,
    generate_private_key,
    key_id,
    load_private_key,
    public_jwk,
    public_key_text,
    save_private_key,
)

__all__ = [
    "BearerAuth",
    "CredentialError",
    "TokenRequestError",
    "TokenSource",
    "fingerprint",
    "generate_private_key",
    "key_id",
    "load_private_key",
    "make_client_assertion",
    "public_jwk",
    "public_key_text",
    "save_private_key",
]
