"""Which period a report has, and what counts as shortening one (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.sharing.retention.domain import NONE, Periods, effective, expiries, shortens

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_partners_own_period_comes_before_the_networks_and_a_tlps_before_the_general() -> None:
    network = Periods(365, {"RED": 90})
    assert effective(NONE, network) == {
        "CLEAR": 365,
        "GREEN": 365,
        "AMBER": 365,
        "AMBER+STRICT": 365,
        "RED": 90,
    }
    own = Periods(730, {"GREEN": 30})
    assert effective(own, network) == {
        "CLEAR": 730,
        "GREEN": 30,
        "AMBER": 730,
        "AMBER+STRICT": 730,
        "RED": 730,  # the partner was set exactly: its general period, not the network's RED
    }
    # Only a TLP of its own: the network's periods fill the rest.
    assert effective(Periods(None, {"RED": 7}), network)["AMBER"] == 365
    assert effective(NONE, NONE) == dict.fromkeys(effective(NONE, NONE))


def test_shortening_is_any_tlp_getting_a_period_it_lacked_or_a_shorter_one() -> None:
    kept = effective(NONE, NONE)
    assert shortens(kept, effective(Periods(3650), NONE))  # kept for ever → ten years
    assert shortens(effective(Periods(60), NONE), effective(Periods(60, {"RED": 59}), NONE))
    assert not shortens(effective(Periods(60), NONE), effective(Periods(61), NONE))
    assert not shortens(effective(Periods(60), NONE), kept)  # dropping a period erases nothing
    assert not shortens(effective(Periods(60), NONE), effective(Periods(60), NONE))


def test_stored_rows_round_trip() -> None:
    periods = Periods(365, {"RED": 30, "AMBER+STRICT": 90})
    assert Periods.from_rows(periods.rows()) == periods
    assert Periods.from_rows([]) == NONE
    assert periods.as_dict() == {"days": 365, "tlp": {"AMBER+STRICT": 90, "RED": 30}}


def test_cutoffs_exist_only_where_a_period_applies() -> None:
    due = expiries(["p2", "p1"], {"p1": Periods(None, {"RED": 7})}, NONE, NOW)
    assert [(e.partner_id, e.tlp, e.days, e.cutoff) for e in due] == [
        ("p1", "RED", 7, NOW - timedelta(days=7))
    ]
    everyone = expiries(["p1", "p2"], {}, Periods(100), NOW)
    assert len(everyone) == 10 and {e.cutoff for e in everyone} == {NOW - timedelta(days=100)}
