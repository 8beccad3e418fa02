"""Response body of the token endpoint."""

from __future__ import annotations

from pydantic import BaseModel


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 access-token response."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token type name
    expires_in: int
    scope: str
