"""Request and response bodies of the OPRF evaluation API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from libs.common.identity import oprf


class EvaluateRequest(BaseModel):
    """Blinded elements (base64url ristretto255) to evaluate under one PRF key version."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)
    elements: list[str] = Field(min_length=1, max_length=oprf.MAX_BATCH)


class EvaluateResponse(BaseModel):
    """The evaluated elements, in order, and the key version used (label the tokens with it)."""

    version: int
    elements: list[str]


class PrfInfo(BaseModel):
    """Which PRF key version clients should tokenise with now, and with which canonicaliser.

    A client whose own canonicaliser version differs must refuse to tokenise (its tokens would
    never meet the network's): `identity_rules_outdated`.
    """

    current_version: int
    canonical_version: int


class PrfRotated(BaseModel):
    """The new current key version, the canonicaliser version bound to it, and the one before
    (retire it once its reports have aged out)."""

    current_version: int
    canonical_version: int
    previous_version: int


class PrfRetired(BaseModel):
    """A retired key version: its seed is destroyed."""

    version: int
    state: str
