"""Policy documents: strict parsing with every bad path listed, canonical dump, readable diff."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from libs.common.errors import InvalidInput
from libs.common.reports import IncidentType, LegalBasis, Tlp
from services.sharing.vault.policy.document import diff_policies, dump_policy, parse_policy
from services.sharing.vault.policy.domain import Grant, Policy, Reader, ReportMeta, decide
from tests.support.reports import GROWN

# Partner B may see incident type + country of any partner's detention reports in KG/KZ up to AMBER.
DOC: dict[str, Any] = {
    "partner": "ngo-b",
    "role": None,
    "grants": [
        {
            "id": "detentions-central-asia",
            "from": ["*"],
            "fields": ["place.country", "incident_type"],
            "incident_types": ["detention"],
            "countries": ["KZ", "KG"],
            "legal_bases": ["*"],
            "max_tlp": "AMBER",
        }
    ],
}
GRANT = Grant(
    id="detentions-central-asia",
    fields=frozenset({"incident_type", "place.country"}),
    sources=None,
    incident_types=frozenset({IncidentType.DETENTION}),
    countries=frozenset({"KG", "KZ"}),
    legal_bases=None,
    max_tlp=Tlp.AMBER,
)


_DELETE = object()


def doc_with(**changes: Any) -> dict[str, Any]:
    """DOC with top-level keys (`grants_0_<key>` for the first grant) replaced; _DELETE deletes."""
    doc = copy.deepcopy(DOC)
    for path, value in changes.items():
        target, key = (doc["grants"][0], path[9:]) if path.startswith("grants_0_") else (doc, path)
        if value is _DELETE:
            del target[key]
        else:
            target[key] = value
    return doc


def test_parse_builds_the_policy() -> None:
    assert parse_policy(DOC) == Policy(partner="ngo-b", role=None, grants=(GRANT,))


def test_parse_accepts_what_json_gives_back() -> None:
    assert parse_policy(json.loads(json.dumps(DOC))) == parse_policy(DOC)


def test_dump_is_canonical_and_round_trips() -> None:
    dumped = dump_policy(parse_policy(DOC))
    assert dumped == {
        "partner": "ngo-b",
        "role": None,
        "grants": [
            {
                "id": "detentions-central-asia",
                "from": ["*"],
                "fields": ["incident_type", "place.country"],  # catalogue order
                "incident_types": ["detention"],
                "countries": ["KG", "KZ"],
                "legal_bases": ["*"],
                "max_tlp": "AMBER",
            }
        ],
    }
    assert list(dumped["grants"][0]) == [
        "id", "from", "fields", "incident_types", "countries", "legal_bases", "max_tlp"
    ]  # fmt: skip
    assert dump_policy(parse_policy(dumped)) == dumped


def test_dump_orders_grants_by_id_and_enums_by_declaration() -> None:
    second = {**DOC["grants"][0], "id": "a-first", "from": ["ngo-c", "ngo-a"]}
    second |= {
        "incident_types": ["release", "detention"],
        "legal_bases": ["unknown", "interpol_red_notice"],
    }
    dumped = dump_policy(
        parse_policy({**DOC, "role": "lawyer", "grants": [DOC["grants"][0], second]})
    )
    assert dumped["role"] == "lawyer"
    assert [g["id"] for g in dumped["grants"]] == ["a-first", "detentions-central-asia"]
    first = dumped["grants"][0]
    assert first["from"] == ["ngo-a", "ngo-c"]
    assert first["incident_types"] == ["detention", "release"]
    assert first["legal_bases"] == ["interpol_red_notice", "unknown"]


# (the change to DOC, the path that must be reported, a word of its reason)
BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "unknown top key": ({"partnr": "x"}, "partnr", "unknown key"),
    "missing partner": ({"partner": _DELETE}, "partner", "required"),
    "missing role (null must be explicit)": ({"role": _DELETE}, "role", "required"),
    "missing grants": ({"grants": _DELETE}, "grants", "required"),
    "bad partner id": ({"partner": "ngo b"}, "partner", "must match"),
    "bad role": ({"role": "Lawyer"}, "role", "must be null or one of"),
    "role nobody holds": ({"role": "analyst"}, "role", "must be null or one of"),
    "grants not a list": ({"grants": {"id": "g"}}, "grants", "must be a list"),
    "grant not an object": ({"grants": ["g1"]}, "grants.0", "must be an object"),
    "unknown grant key": ({"grants_0_tlp": "AMBER"}, "grants.0.tlp", "unknown key"),
    "missing grant key (no implicit wildcard)": (
        {"grants_0_countries": _DELETE}, "grants.0.countries", "required"),
    "bad grant id": ({"grants_0_id": "a/b"}, "grants.0.id", "must match"),
    "unknown field": ({"grants_0_fields": ["incident_type", "narative"]}, "grants.0.fields.1", "not a field"),
    "metadata is not a field": ({"grants_0_fields": ["received_at"]}, "grants.0.fields.0", "not a field"),
    "no wildcard for fields": ({"grants_0_fields": ["*"]}, "grants.0.fields.0", "not a field"),
    "no fields": ({"grants_0_fields": []}, "grants.0.fields", "empty"),
    "unknown incident type": (
        {"grants_0_incident_types": ["detention", "arrest"]}, "grants.0.incident_types.1", "unknown"),
    "lower-case country": ({"grants_0_countries": ["kg"]}, "grants.0.countries.0", "unknown country"),
    "unknown country": ({"grants_0_countries": ["KG", "XX"]}, "grants.0.countries.1", "unknown country"),
    "unknown legal basis": ({"grants_0_legal_bases": ["interpol"]}, "grants.0.legal_bases.0", "unknown"),
    "bad source partner": ({"grants_0_from": ["ngo a"]}, "grants.0.from.0", "unknown partner id"),
    "wildcard mixed with values": ({"grants_0_countries": ["*", "KG"]}, "grants.0.countries", "alone"),
    "empty condition": ({"grants_0_countries": []}, "grants.0.countries", "empty"),
    "bare string instead of a list": ({"grants_0_countries": "KG"}, "grants.0.countries", "list"),
    "RED as max_tlp": ({"grants_0_max_tlp": "RED"}, "grants.0.max_tlp", "RED is never grantable"),
    "unknown TLP": ({"grants_0_max_tlp": "amber"}, "grants.0.max_tlp", "must be one of"),
    "duplicate grant id": ({"grants": [DOC["grants"][0]] * 2}, "grants.1.id", "duplicate"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "path", "reason"), BAD.values(), ids=BAD.keys())
def test_parse_rejects(change: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_policy(doc_with(**change))
    assert err.value.status == 422
    assert any(f["path"] == path and reason in f["reason"] for f in err.value.fields), (
        err.value.fields
    )


def test_parse_lists_every_bad_path_at_once() -> None:
    doc = doc_with(role="X", grants_0_countries=["KG", "xx", "RU", "YY"], grants_0_max_tlp="RED")
    doc["extra"] = 1
    with pytest.raises(InvalidInput) as err:
        parse_policy(doc)
    assert sorted(f["path"] for f in err.value.fields) == [
        "extra", "grants.0.countries.1", "grants.0.countries.3", "grants.0.max_tlp", "role",
    ]  # fmt: skip


@pytest.mark.parametrize("doc", [None, [], "partner: b", 3])
def test_parse_rejects_a_document_that_is_not_an_object(doc: object) -> None:
    with pytest.raises(InvalidInput):
        parse_policy(doc)


def _policy(**grant_changes: Any) -> Policy:
    return parse_policy(doc_with(**{f"grants_0_{k}": v for k, v in grant_changes.items()}))


G = "grant detentions-central-asia:"
# (old, new, the exact lines of the diff)
DIFFS: dict[str, tuple[Policy, Policy, list[str]]] = {
    "no change": (_policy(), parse_policy(copy.deepcopy(DOC)), []),
    "fields added and removed": (
        _policy(), _policy(fields=["incident_type", "narrative", "subject"]),
        [f"{G} fields added: narrative, subject", f"{G} fields removed: place.country"]),
    "countries added": (
        _policy(), _policy(countries=["KG", "KZ", "UZ"]), [f"{G} countries added: UZ"]),
    "countries to wildcard": (
        _policy(), _policy(countries=["*"]), [f"{G} countries changed: KG, KZ -> *"]),
    "sources from wildcard": (
        _policy(), _policy(**{"from": ["ngo-a"]}), [f"{G} source partners changed: * -> ngo-a"]),
    "incident types and legal bases": (
        _policy(), _policy(incident_types=["detention", "abduction"], legal_bases=["unknown"]),
        [f"{G} incident types added: abduction",
         f"{G} legal bases changed: * -> unknown"]),
    "TLP raised": (_policy(), _policy(max_tlp="AMBER+STRICT"), [f"{G} max TLP raised: AMBER -> AMBER+STRICT"]),
    "TLP lowered": (_policy(), _policy(max_tlp="CLEAR"), [f"{G} max TLP lowered: AMBER -> CLEAR"]),
    "grant replaced": (
        _policy(), _policy(id="g2", fields=["status"]),
        ["grant detentions-central-asia removed: fields incident_type, place.country; "
         "source partners *; incident types detention; countries KG, KZ; legal bases *; max TLP AMBER",
         "grant g2 added: fields status; source partners *; incident types detention; "
         "countries KG, KZ; legal bases *; max TLP AMBER"]),
    "role changed": (
        _policy(), parse_policy(doc_with(role="lawyer")), ["policy changed: ngo-b/* -> ngo-b/lawyer"]),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "lines"), DIFFS.values(), ids=DIFFS.keys())
def test_diff(old: Policy, new: Policy, lines: list[str]) -> None:
    assert diff_policies(old, new) == lines


def test_diff_against_an_empty_policy_lists_every_grant() -> None:
    empty, full = Policy(partner="ngo-b", role=None, grants=()), parse_policy(DOC)
    described = (
        "fields incident_type, place.country; source partners *; incident types detention; "
        "countries KG, KZ; legal bases *; max TLP AMBER"
    )
    assert diff_policies(empty, full) == [f"grant detentions-central-asia added: {described}"]
    assert diff_policies(full, empty) == [f"grant detentions-central-asia removed: {described}"]


def test_parsed_enum_values_are_the_contract_enums() -> None:
    grant = parse_policy(doc_with(grants_0_legal_bases=["cis_interstate_search"])).grants[0]
    assert grant.legal_bases == frozenset({LegalBasis.CIS_INTERSTATE_SEARCH})
    assert all(isinstance(v, LegalBasis) for v in grant.legal_bases or ())
    assert all(isinstance(v, IncidentType) for v in grant.incident_types or ())


def test_field_names_are_checked_against_the_running_catalogue() -> None:
    doc = doc_with(grants_0_fields=["later_field", "narrative"])
    with pytest.raises(InvalidInput) as info:
        parse_policy(doc)  # today's catalogue has no such field
    assert info.value.fields == [
        {"path": "grants.0.fields.0", "reason": "not a field of the catalogue"}
    ]
    with pytest.raises(ValueError, match="outside the catalogue"):
        replace(GRANT, fields=frozenset({"later_field"}))
    policy = parse_policy(doc, GROWN)
    assert policy.grants[0] == replace(
        GRANT, fields=frozenset({"narrative", "later_field"}), catalogue=GROWN
    )
    assert dump_policy(policy, GROWN)["grants"][0]["fields"] == ["narrative", "later_field"]
    assert diff_policies(parse_policy(DOC, GROWN), policy, GROWN) == [
        "grant detentions-central-asia: fields added: narrative, later_field",
        "grant detentions-central-asia: fields removed: incident_type, place.country",
    ]
    report = ReportMeta("r1", "ngo-a", IncidentType.DETENTION, LegalBasis.UNKNOWN, "KG", Tlp.AMBER)
    own = decide(Reader("ngo-a"), report, [policy], catalogue=GROWN)
    assert "later_field" in own.fields and own.withheld == frozenset()
    seen = decide(Reader("ngo-b"), report, [policy], catalogue=GROWN)
    assert seen.fields == {"narrative", "later_field"}
    assert "later_field" not in seen.withheld and "subject" in seen.withheld
