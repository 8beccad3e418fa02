"""The pure rules of seizures and approvals: one target, what was taken, who may decide."""

from __future__ import annotations

import pytest

from libs.common.errors import Forbidden, InvalidInput
from services.sharing.approvals.domain import Requester, SameOperator, check_second_operator
from services.sharing.seizure.domain import Taken, TargetKind, target_of


@pytest.mark.parametrize(("client", "partner"), [(None, None), ("cli_a", "ptn_b")])
def test_a_seizure_names_exactly_one_target(client: str | None, partner: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        target_of(client, partner)
    assert {f["path"] for f in refused.value.fields} == {"client_id", "partner_id"}


def test_the_target_is_the_one_given() -> None:
    assert target_of("cli_a", None) == (TargetKind.CLIENT, "cli_a")
    assert target_of(None, "ptn_b") == (TargetKind.PARTNER, "ptn_b")


def test_what_was_taken_is_counted_and_kept_by_id() -> None:
    taken = Taken(clients=["cli_a"], client_keys=["k1", "k2"], report_grants=["g"])
    assert taken.counts() == {
        "clients": 1,
        "client_keys": 2,
        "delivery_keys": 0,
        "report_grants": 1,
        "approvals": 0,
        "enrolments": 0,
    }
    assert Taken(**taken.record()) == taken


def test_the_requester_never_decides_its_own_request() -> None:
    with pytest.raises(SameOperator) as refused:
        check_second_operator("cli_op1", "cli_op1")
    assert isinstance(refused.value, Forbidden)
    assert refused.value.body()["code"] == "same_operator"
    check_second_operator("cli_op1", "cli_op2")


def test_an_approved_action_runs_as_its_requester() -> None:
    requester = Requester("cli_r", "ptn_p", "reader", ("reports:manage", "reports:read"))
    stored = Requester.stored("cli_r", "ptn_p", requester.record())
    principal = stored.principal()
    assert stored == requester
    assert (principal.client_id, principal.partner_id, principal.role) == (
        "cli_r",
        "ptn_p",
        "reader",
    )
    assert principal.scopes == frozenset({"reports:manage", "reports:read"})
