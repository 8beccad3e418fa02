"""The action registry: how each gated action is checked when asked for, and run once approved.

Each `ask_*` checks the request as the action itself would (so an approver never sees one that
could not run), stores exactly what will run, and returns the pending approval. Each runner
calls the same use case the ungated route calls, as the requesting client.
"""

from __future__ import annotations

from typing import Any

from libs.common.auth.jwk import ed25519_fingerprint, ed25519_public_jwk, ed25519_thumbprint
from libs.common.auth.principal import Principal
from libs.common.errors import Gone
from services.sharing.access.enrolment.service import Enrolments
from services.sharing.access.keys import ClientKeyAdmin, parse_public_key
from services.sharing.access.schemas import KeyOut, KeyRotated
from services.sharing.access.service import RegistryAdmin
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.repository import ApprovalRow
from services.sharing.approvals.service import Approvals
from services.sharing.retention.domain import Periods
from services.sharing.retention.service import RetentionAdmin
from services.sharing.seizure.schemas import SeizureOut
from services.sharing.seizure.service import SeizureAdmin
from services.sharing.vault.erasure import ReportActions
from services.sharing.vault.policy.service import PolicyAdmin


class GatedActions:
    """Key registration, policy change, erasure and seizure lift, behind a second operator."""

    def __init__(
        self,
        approvals: Approvals,
        *,
        registry: RegistryAdmin,
        client_keys: ClientKeyAdmin,
        enrolments: Enrolments,
        policies: PolicyAdmin,
        reports: ReportActions,
        seizures: SeizureAdmin,
        retention: RetentionAdmin,
    ) -> None:
        self.approvals = approvals
        self.registry = registry
        self.client_keys = client_keys
        self.enrolments = enrolments
        self.policies = policies
        self.reports = reports
        self.seizures = seizures
        self.retention = retention
        approvals.register(ApprovalAction.KEY_REGISTRATION, self._register_key)
        approvals.register(ApprovalAction.POLICY_CHANGE, self._change_policy)
        approvals.register(ApprovalAction.ERASURE, self._erase)
        approvals.register(ApprovalAction.SEIZURE_LIFT, self._lift)

    async def required(self, action: ApprovalAction) -> bool:
        """Whether `action` waits for a second operator here."""
        return await self.approvals.required(action)

    # --- asking ------------------------------------------------------------------------------

    async def ask_key(
        self,
        principal: Principal,
        client_id: str,
        public_key: str | dict[str, Any],
        valid_days: int,
        within: str | None,
    ) -> ApprovalRow:
        """Ask to register a client key (the approver compares the fingerprint shown)."""
        key = parse_public_key(public_key)
        await self.registry.get_client(client_id, within=within)
        request = {"op": "add", "client_id": client_id, "valid_days": valid_days, "within": within}
        return await self.approvals.request(
            ApprovalAction.KEY_REGISTRATION, principal, client_id, request | _key_fields(key)
        )

    async def ask_rotation(
        self,
        principal: Principal,
        kid: str,
        *,
        public_key: str | dict[str, Any],
        valid_days: int,
        grace_seconds: int,
        within: str | None,
    ) -> ApprovalRow:
        """Ask to register a replacement key (rotation registers a key, so it is gated too)."""
        key = parse_public_key(public_key)
        old = await self.client_keys.get_key(kid, within=within)
        request = {
            "op": "rotate",
            "kid": kid,
            "valid_days": valid_days,
            "grace_seconds": grace_seconds,
            "within": within,
        }
        return await self.approvals.request(
            ApprovalAction.KEY_REGISTRATION, principal, old.client_id, request | _key_fields(key)
        )

    async def ask_confirm(
        self, principal: Principal, kid: str, fingerprint: str, within: str | None
    ) -> ApprovalRow:
        """Ask to confirm an enrolled key; a wrong fingerprint revokes it here already (409)."""
        key = await self.enrolments.check_confirmable(
            principal.client_id, kid, fingerprint, within=within
        )
        request = {"op": "confirm", "kid": kid, "fingerprint": fingerprint, "within": within}
        return await self.approvals.request(
            ApprovalAction.KEY_REGISTRATION, principal, key.client_id, request
        )

    async def ask_policy(
        self, principal: Principal, partner_id: str, document: object
    ) -> ApprovalRow:
        """Ask to set a policy; the request keeps the canonical document and its diff."""
        await self.registry.get_partner(partner_id)
        diff = await self.policies.diff(partner_id, document)
        request = {"partner_id": partner_id, "document": diff["policy"], "changes": diff["changes"]}
        return await self.approvals.request(
            ApprovalAction.POLICY_CHANGE, principal, partner_id, request
        )

    async def ask_erasure(self, principal: Principal, report_id: str) -> ApprovalRow:
        """Ask to erase a report the caller may erase."""
        row = await self.reports.owned(principal, report_id)
        if row.erased_at is not None:
            raise Gone("the report was erased")
        request = {"report_id": report_id}
        return await self.approvals.request(ApprovalAction.ERASURE, principal, report_id, request)

    async def ask_retention(
        self, principal: Principal, partner_id: str, periods: Periods
    ) -> ApprovalRow:
        """Ask to shorten a partner's retention: it erases reports sooner, so it is an erasure."""
        request = {"retention": periods.as_dict(), "partner_id": partner_id}
        return await self.approvals.request(ApprovalAction.ERASURE, principal, partner_id, request)

    async def ask_lift(self, principal: Principal, seizure_id: str) -> ApprovalRow:
        """Ask to lift a seizure that still holds."""
        await self.seizures.check_liftable(seizure_id)
        request = {"seizure_id": seizure_id}
        return await self.approvals.request(
            ApprovalAction.SEIZURE_LIFT, principal, seizure_id, request
        )

    # --- running (as the requester, once approved) ---------------------------------------------

    async def _register_key(self, row: ApprovalRow) -> dict[str, Any]:
        req, actor = row.request, row.requester.client_id
        if req["op"] == "confirm":
            key = await self.enrolments.confirm(
                actor, req["kid"], req["fingerprint"], within=req["within"]
            )
            return KeyOut.of(key, self.client_keys.now()).model_dump(mode="json")
        if req["op"] == "add":
            key = await self.client_keys.add_key(
                actor, req["client_id"], req["public_key"], req["valid_days"], within=req["within"]
            )
            return KeyOut.of(key, self.client_keys.now()).model_dump(mode="json")
        new, old = await self.client_keys.rotate_key(
            actor,
            req["kid"],
            req["public_key"],
            req["valid_days"],
            req["grace_seconds"],
            within=req["within"],
        )
        now = self.client_keys.now()
        rotated = KeyRotated(new=KeyOut.of(new, now), old=KeyOut.of(old, now))
        return rotated.model_dump(mode="json")

    async def _change_policy(self, row: ApprovalRow) -> dict[str, Any]:
        req = row.request
        return await self.policies.put(row.requester.client_id, req["partner_id"], req["document"])

    async def _erase(self, row: ApprovalRow) -> dict[str, Any]:
        if "retention" in row.request:
            wanted = row.request["retention"]
            periods = Periods(wanted["days"], wanted["tlp"])
            actor, partner_id = row.requester.client_id, row.request["partner_id"]
            return await self.retention.set(actor, partner_id, periods)
        return await self.reports.erase(row.requester.principal(), row.request["report_id"])

    async def _lift(self, row: ApprovalRow) -> dict[str, Any]:
        lifted = await self.seizures.lift(
            row.requester.client_id, row.request["seizure_id"], approval_id=row.id
        )
        return SeizureOut.of(lifted).model_dump(mode="json")


def _key_fields(key: Any) -> dict[str, Any]:
    # The approver compares this fingerprint with the one the client reads out.
    return {
        "public_key": ed25519_public_jwk(key),
        "new_kid": ed25519_thumbprint(key),
        "fingerprint": ed25519_fingerprint(key),
    }
