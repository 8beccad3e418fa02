"""Sharing policies: which partner (and role) may read which fields of which reports. Pure rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TypeVar

from libs.common.errors import InvalidInput
from libs.common.reports import IncidentType, LegalBasis, Tlp

# The readable fields of a stored report, in display order. Report metadata (report id,
# submitting partner, received_at) is deliberately absent: it is visible exactly when the report is.
FIELDS: tuple[str, ...] = tuple(
    """
    incident_type legal_basis occurred_at place.country place.locality place.facility_kind
    requesting_state charges detaining_authority status tlp narrative contact_instructions subject
    """.split()
)
CATALOGUE: frozenset[str] = frozenset(FIELDS)

# TLP 2.0 from least to most restricted. RED is last so no standing ceiling can ever reach it.
TLP_ORDER: tuple[Tlp, ...] = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
TLP_RANK: dict[Tlp, int] = {tlp: rank for rank, tlp in enumerate(TLP_ORDER)}
GRANTABLE_TLP: tuple[Tlp, ...] = TLP_ORDER[:-1]

_T = TypeVar("_T")
# In every condition below, None stands for `*` (any value); a set lists the accepted values.
Scope = frozenset[_T] | None


def _check_fields(fields: frozenset[str], what: str) -> None:
    # Invariants hold for objects built in code too, not only for parsed documents.
    if not fields:
        raise ValueError(f"{what} grants no field")
    if not fields <= CATALOGUE:
        raise ValueError(f"{what} names fields outside the catalogue: {sorted(fields - CATALOGUE)}")


@dataclass(frozen=True, slots=True)
class Reader:
    """Who is reading: a partner, and the kind of client it reads through (None = no role)."""

    partner: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """The routing metadata of a stored report that policies are decided on."""

    report_id: str
    partner: str  # the submitting partner
    incident_type: IncidentType
    legal_basis: LegalBasis
    country: str
    tlp: Tlp
    tlp_rank: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Rows may hand over plain strings; the RED checks must not depend on the caller's type.
        object.__setattr__(self, "tlp", Tlp(self.tlp))
        object.__setattr__(self, "tlp_rank", TLP_RANK[self.tlp])


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A standing permission: these fields of reports from chosen sources under these conditions."""

    id: str
    fields: frozenset[str]
    sources: Scope[str]
    incident_types: Scope[IncidentType]
    countries: Scope[str]
    legal_bases: Scope[LegalBasis]
    max_tlp: Tlp
    tlp_ceiling: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_fields(self.fields, f"grant {self.id}")
        if self.max_tlp == Tlp.RED:
            raise ValueError("TLP:RED is never grantable by a standing policy")
        object.__setattr__(self, "tlp_ceiling", TLP_RANK[self.max_tlp])


@dataclass(frozen=True, slots=True)
class Policy:
    """The standing grants of one reading partner, for one role or (role None) every client."""

    partner: str
    role: str | None
    grants: tuple[Grant, ...]
    # (audit id, grant) pairs, precomputed because decide() runs on every read.
    refs: tuple[tuple[str, Grant], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [g.id for g in self.grants]
        if len(set(ids)) != len(ids):
            raise ValueError("grant ids must be unique within a policy")
        # Grant order carries no meaning (fields are a union), so equal policies compare equal.
        grants = tuple(sorted(self.grants, key=attrgetter("id")))
        object.__setattr__(self, "grants", grants)
        prefix = f"policy:{self.partner}/{self.role or '*'}:"
        object.__setattr__(self, "refs", tuple((prefix + g.id, g) for g in grants))

    def applies_to(self, reader: Reader) -> bool:
        """Whether this policy speaks for `reader` (same partner, and its role or every role)."""
        return self.partner == reader.partner and (self.role is None or self.role == reader.role)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportGrant:
    """An explicit grant of one report to one partner: the only way TLP:RED leaves its submitter."""

    id: str
    report_id: str
    partner: str
    fields: frozenset[str]
    role: str | None = None  # None = every client of the partner
    ref: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_fields(self.fields, f"report grant {self.id}")
        object.__setattr__(self, "ref", f"report-grant:{self.id}")

    def reaches(self, reader: Reader) -> bool:
        """Whether this grant is addressed to `reader` (its partner, and its role or every role)."""
        return self.partner == reader.partner and (self.role is None or self.role == reader.role)

    def applies_to(self, reader: Reader, report: ReportMeta) -> bool:
        """Whether this grant gives `reader` something of `report`."""
        return self.report_id == report.report_id and self.reaches(reader)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a reader sees of one report; not visible means the API answers 404, never 403."""

    visible: bool
    fields: frozenset[str]
    matched: tuple[str, ...] = ()  # audit ids of the grants that contributed fields
    submitter: bool = False

    @property
    def withheld(self) -> frozenset[str]:
        """Catalogue fields the reader does not see."""
        return CATALOGUE - self.fields


_OWN = Decision(visible=True, fields=CATALOGUE, submitter=True)
_DENY = Decision(visible=False, fields=frozenset())


def _conditions_hold(grant: Grant, report: ReportMeta) -> bool:
    # The hot path, so plain lookups; explain() reads _CONDITIONS below, and a property test
    # (explain agrees with decide) keeps the two in step.
    return (
        report.tlp_rank <= grant.tlp_ceiling
        and (grant.sources is None or report.partner in grant.sources)
        and (grant.incident_types is None or report.incident_type in grant.incident_types)
        and (grant.countries is None or report.country in grant.countries)
        and (grant.legal_bases is None or report.legal_basis in grant.legal_bases)
    )


def decide(
    reader: Reader,
    report: ReportMeta,
    policies: Iterable[Policy],
    report_grants: Iterable[ReportGrant] = (),
) -> Decision:
    """The fields of `report` that `reader` may see: default deny, union over matching grants."""
    if reader.partner == report.partner:
        return _OWN
    fields: frozenset[str] = frozenset()
    matched: list[str] = []
    if report.tlp != Tlp.RED:  # the ceiling already excludes RED; this skips the loop
        for policy in policies:
            if policy.applies_to(reader):
                for ref, grant in policy.refs:
                    if _conditions_hold(grant, report):
                        fields |= grant.fields
                        matched.append(ref)
    for report_grant in report_grants:
        if report_grant.applies_to(reader, report):
            fields |= report_grant.fields
            matched.append(report_grant.ref)
    if not fields:
        return _DENY
    return Decision(visible=True, fields=fields, matched=tuple(matched))


# (what, the grant's accepted values, the report's value): the conditions `explain` reports.
_CONDITIONS: tuple[tuple[str, Callable[[Grant], Scope[str]], Callable[[ReportMeta], str]], ...] = (
    ("source partner", attrgetter("sources"), attrgetter("partner")),
    ("incident type", attrgetter("incident_types"), attrgetter("incident_type")),
    ("country", attrgetter("countries"), attrgetter("country")),
    ("legal basis", attrgetter("legal_bases"), attrgetter("legal_basis")),
)


def _role(role: str | None) -> str:
    return "every role" if role is None else f"role {role}"


def _grant_failures(policy: Policy, grant: Grant, reader: Reader, report: ReportMeta) -> list[str]:
    if not policy.applies_to(reader):
        return [
            f"role mismatch: the policy is for {_role(policy.role)}, "
            f"the reader has {_role(reader.role) if reader.role else 'no role'}"
        ]
    failures = []
    if report.tlp == Tlp.RED:
        failures.append("report is TLP:RED: only the submitter and per-report grants see it")
    elif report.tlp_rank > grant.tlp_ceiling:
        failures.append(f"TLP {report.tlp} is above the grant's max {grant.max_tlp}")
    for what, accepted, actual in _CONDITIONS:
        allowed = accepted(grant)
        if allowed is not None and actual(report) not in allowed:
            failures.append(f"{what} {actual(report)} not in {{{', '.join(sorted(allowed))}}}")
    return failures


def explain(
    reader: Reader,
    report: ReportMeta,
    field_name: str,
    policies: Iterable[Policy],
    report_grants: Iterable[ReportGrant] = (),
) -> list[str]:
    """Why `reader` can or cannot see `field_name` of `report`: a verdict, then one line a grant."""
    if field_name not in CATALOGUE:
        raise InvalidInput("unknown field", fields=[{"path": "field", "reason": "not a field"}])
    policies, report_grants = tuple(policies), tuple(report_grants)
    decision = decide(reader, report, policies, report_grants)
    who = f"partner {reader.partner}" + ("" if reader.role is None else f" (role {reader.role})")
    verdict = "can" if field_name in decision.fields else "cannot"
    lines = [f"{who} {verdict} see {field_name} of report {report.report_id}"]
    if decision.submitter:
        return [*lines, f"partner {reader.partner} submitted the report and reads every field"]
    for policy in policies:
        if policy.partner != reader.partner:
            continue  # another partner's policy is never a candidate
        for ref, grant in policy.refs:
            failures = _grant_failures(policy, grant, reader, report)
            if field_name not in grant.fields:  # say so even when conditions fail: both must change
                failures.append(f"field {field_name} not granted")
            lines.append(f"{ref}: " + ("; ".join(failures) or "allows it"))
    for rg in report_grants:
        if rg.report_id != report.report_id or rg.partner != reader.partner:
            continue
        if not rg.applies_to(reader, report):
            lines.append(
                f"{rg.ref}: role mismatch: the grant is for {_role(rg.role)}, "
                f"the reader has {_role(reader.role) if reader.role else 'no role'}"
            )
        else:
            granted = field_name in rg.fields
            lines.append(
                f"{rg.ref}: " + ("allows it" if granted else f"field {field_name} not granted")
            )
    if len(lines) == 1:
        lines.append(f"no policy or per-report grant names partner {reader.partner}: default deny")
    if not decision.visible:
        lines.append("no field is visible, so the report does not exist for this reader (404)")
    return lines


@dataclass(frozen=True, slots=True)
class Clause:
    """One grant's conditions for SQL pre-selection (None = any value; `tlps` never has RED)."""

    sources: Scope[str]
    incident_types: Scope[IncidentType]
    countries: Scope[str]
    legal_bases: Scope[LegalBasis]
    tlps: frozenset[Tlp]


@dataclass(frozen=True, slots=True)
class Filter:
    """Reports a reader may see: its own, explicitly granted ones, or any matching clause."""

    own_partner: str
    report_ids: frozenset[str]
    clauses: tuple[Clause, ...]

    def matches(self, report: ReportMeta) -> bool:
        """The same pre-selection in Python (what the repository's WHERE clause must express)."""
        if report.partner == self.own_partner or report.report_id in self.report_ids:
            return True
        return any(
            report.tlp in c.tlps
            and (c.sources is None or report.partner in c.sources)
            and (c.incident_types is None or report.incident_type in c.incident_types)
            and (c.countries is None or report.country in c.countries)
            and (c.legal_bases is None or report.legal_basis in c.legal_bases)
            for c in self.clauses
        )


def candidate_filter(
    reader: Reader, policies: Iterable[Policy], report_grants: Iterable[ReportGrant] = ()
) -> Filter:
    """What listing and search may load for `reader`; each hit is still re-checked by decide()."""
    clauses: dict[Clause, None] = {}  # a dict keeps first-seen order and drops duplicates
    for policy in policies:
        if policy.applies_to(reader):
            for grant in policy.grants:
                tlps = frozenset(GRANTABLE_TLP[: grant.tlp_ceiling + 1])
                clause = Clause(
                    grant.sources, grant.incident_types, grant.countries, grant.legal_bases, tlps
                )
                clauses[clause] = None
    report_ids = frozenset(rg.report_id for rg in report_grants if rg.reaches(reader))
    return Filter(own_partner=reader.partner, report_ids=report_ids, clauses=tuple(clauses))
