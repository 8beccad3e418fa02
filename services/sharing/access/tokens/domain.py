"""Pure token-endpoint rules: the request form, the scopes and audiences a token gets, errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from libs.common.auth.scopes import audiences_for, parse_scope
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.common.errors import LifelineError
from libs.common.requestid import current_request_id

MAX_FORM_BYTES = 16 * 1024


class OAuthError(LifelineError):
    """An RFC 6749 §5.2 token-endpoint error: `{error, error_description}`, not a problem.

    OAuth clients parse this shape by their own standard; `request_id` is an extra member,
    which RFC 6749 clients ignore.
    """

    media_type = "application/json"

    def __init__(self, error: str, detail: str, status: int = 400) -> None:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
        super().__init__(detail, headers=headers)
        self.code = error
        self.status = status

    def body(self) -> dict[str, Any]:
        """The RFC 6749 §5.2 error body."""
        return {
            "error": self.code,
            "error_description": self.detail,
            "request_id": current_request_id(),
        }


def invalid_client() -> OAuthError:
    """The one answer for every failed client authentication: it never says which check failed."""
    return OAuthError("invalid_client", "client authentication failed", 401)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A parsed `client_credentials` request with a `private_key_jwt` assertion."""

    assertion: str
    scope: str | None
    audience: str | None


def parse_token_form(body: bytes, content_type: str) -> TokenRequest:
    """Parse the form strictly: one of each parameter, the grant and assertion types we serve."""
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send application/x-www-form-urlencoded")
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "request too large")
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=16,
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "malformed form body") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: parameters must not be included more than once.
            raise OAuthError("invalid_request", "a parameter appears more than once")
        form[name] = value
    if form.get("grant_type") != "client_credentials":
        if "grant_type" not in form:
            raise OAuthError("invalid_request", "grant_type is required")
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise OAuthError("invalid_request", "client_assertion_type must be jwt-bearer")
    assertion = form.get("client_assertion")
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is required")
    return TokenRequest(assertion, form.get("scope"), form.get("audience"))


def grant_scopes(requested: str | None, registered: frozenset[str]) -> frozenset[str]:
    """The scopes to put in the token: what was asked for, which must all be registered."""
    if requested is None or not requested.strip():
        return registered
    wanted = parse_scope(requested)
    if not wanted <= registered:
        raise OAuthError("invalid_scope", "a requested scope is not granted to this client")
    return wanted


def grant_audiences(requested: str | None, scopes: frozenset[str]) -> list[str]:
    """The token's `aud`: the services its scopes are for, or the requested subset of them."""
    allowed = audiences_for(scopes)
    if requested is None or not requested.strip():
        return allowed
    wanted = parse_scope(requested)
    if not wanted <= set(allowed):
        raise OAuthError(
            "invalid_target", "a requested audience is not reachable with these scopes"
        )
    return [a for a in allowed if a in wanted]
