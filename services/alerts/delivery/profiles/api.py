"""Profile routes: how a lawyer is reached, and their organisation's escalation (parse, call,
return)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from fastapi import APIRouter

from libs.common.problems import problems
from services.alerts.delivery.profiles.schemas import (
    ContactTestIn,
    ContactTestOut,
    EscalationIn,
    EscalationOut,
    ProfileIn,
    ProfileOut,
)
from services.alerts.deps import (
    IdempotentManager,
    Manager,
    OrgManager,
    OrgViewer,
    ProbeDep,
    ProfilesDep,
)

router = APIRouter(prefix="/v1", tags=["profile"])


@router.get(
    "/lawyer/profile",
    response_model=ProfileOut,
    summary="The caller's contact channels and backup contacts (no secrets).",
)
async def get_profile(principal: Manager, profiles: ProfilesDep) -> ProfileOut:
    """Webhook, email and backups as stored."""
    return await profiles.get(principal)


@router.put(
    "/lawyer/profile",
    response_model=ProfileOut,
    summary="Set the caller's webhook, email (optional OpenPGP key) and backup contacts.",
)
async def put_profile(body: ProfileIn, principal: Manager, profiles: ProfilesDep) -> ProfileOut:
    """Replace the profile; generated webhook secrets are in `new_secrets`, shown this once."""
    return await profiles.put(principal, body)


@router.post(
    "/lawyer/profile/test",
    response_model=ContactTestOut,
    responses=problems(429),
    summary="Send a test alert to one of the caller's contacts now and say how it went.",
)
async def test_contact(
    body: ContactTestIn, principal: Manager, _key: IdempotentManager, probe: ProbeDep
) -> ContactTestOut:
    """One attempt, no retry; one per contact per 10 s (429 otherwise)."""
    return await probe.send(principal, body.contact)


@router.get(
    "/organisation/escalation",
    response_model=EscalationOut,
    summary="The caller's organisation's escalation timing and duty contacts.",
)
async def get_escalation(principal: OrgViewer, profiles: ProfilesDep) -> EscalationOut:
    """N, M, repeats and duty contacts (defaults until set)."""
    return await profiles.get_escalation(principal)


@router.put(
    "/organisation/escalation",
    response_model=EscalationOut,
    summary="Set the caller's organisation's escalation timing and duty contacts.",
)
async def put_escalation(
    body: EscalationIn, principal: OrgManager, profiles: ProfilesDep
) -> EscalationOut:
    """Replace N, M, repeats and the duty contacts of the caller's organisation (its admin)."""
    return await profiles.put_escalation(principal, body)
