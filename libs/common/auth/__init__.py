"""Authentication core: scopes, token minting, client assertions, the strict verifier, JWKS."""

from libs.common.auth.jwks import JwksCache, JwksFetch
from libs.common.auth.keyring import KeyringError, KeyState, SigningKey, SigningKeyring
from libs.common.auth.principal import Principal
from libs.common.auth.revocation import (
    RevocationKind,
    RevocationList,
    revocation_event_data,
)
from libs.common.auth.scopes import ALL_AUDIENCES, ALL_SCOPES, Audience, Scope
from libs.common.auth.tokens import (
    CLIENT_ASSERTION_TYPE,
    AssertionClaims,
    averify_client_assertion,
    mint_access_token,
    verify_client_assertion,
)
from libs.common.auth.verifier import TokenVerifier

__all__ = [
    "ALL_AUDIENCES",
    "ALL_SCOPES",
    "CLIENT_ASSERTION_TYPE",
    "AssertionClaims",
    "Audience",
    "JwksCache",
    "JwksFetch",
    "KeyState",
    "KeyringError",
    "Principal",
    "RevocationKind",
    "RevocationList",
    "Scope",
    "SigningKey",
    "SigningKeyring",
    "TokenVerifier",
    "averify_client_assertion",
    "mint_access_token",
    "revocation_event_data",
    "verify_client_assertion",
]
