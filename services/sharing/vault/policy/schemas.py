"""Response bodies of the policy admin API (documents, diffs, explanations)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PolicyList(BaseModel):
    """A partner's stored policies with their versions."""

    partner: str
    policies: list[dict[str, Any]]


class PolicySet(BaseModel):
    """A stored (or, for a diff, proposed) policy and what it changes."""

    policy: dict[str, Any]
    changes: list[str]
    version: int | None = None


class Explanation(BaseModel):
    """Why a partner (role) can or cannot see one field of one report."""

    lines: list[str]
    visible: bool
    fields: list[str]
    erased: bool
