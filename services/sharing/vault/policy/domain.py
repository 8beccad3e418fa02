"""Sharing policies: which partner (and role) may read which fields of which reports. Pure rules."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import InitVar, dataclass, field
from operator import attrgetter
from typing import TypeVar

from libs.common.errors import InvalidInput
from libs.common.reports import IncidentType, LegalBasis, Tlp
from libs.common.reports.fields import CATALOGUE, Catalogue

# TLP 2.0 from least to most restricted. RED is last so no standing ceiling can ever reach it.
TLP_ORDER: tuple[Tlp, ...] = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
TLP_RANK: dict[Tlp, int] = {tlp: rank for rank, tlp in enumerate(TLP_ORDER)}
GRANTABLE_TLP: tuple[Tlp, ...] = TLP_ORDER[:-1]

_T = TypeVar("_T")
# In every condition below, None stands for `*` (any value); a set lists the accepted values.
Scope = frozenset[_T] | None


# Cached by the tuple of names: a Catalogue holds unhashable examples, and reads call this often.
@functools.lru_cache(maxsize=16)
def _readable(grantable: tuple[str, ...]) -> frozenset[str]:
    return frozenset(grantable)


def readable(catalogue: Catalogue) -> frozenset[str]:
    """The fields of a stored report a policy can grant (the catalogue's grantable fields).

    Report metadata (report id, submitting partner, received_at) is deliberately not a field:
    it is visible exactly when the report is.
    """
    return _readable(catalogue.grantable)


def _check_fields(fields: frozenset[str], what: str, catalogue: Catalogue) -> None:
    # Invariants hold for objects built in code too, not only for parsed documents.
    if not fields:
        raise ValueError(f"{what} grants no field")
    outside = fields - readable(catalogue)
    if outside:
        raise ValueError(f"{what} names fields outside the catalogue: {sorted(outside)}")


def check_grant_fields(fields: Sequence[str], catalogue: Catalogue = CATALOGUE) -> None:
    """Names a per-report grant may list: catalogue fields, no more names than it has (422)."""
    known = readable(catalogue)
    bad = [
        {"path": f"fields.{i}", "reason": "not a field of the catalogue"}
        for i, name in enumerate(fields)
        if name not in known
    ]
    if len(fields) > len(known):
        bad.append({"path": "fields", "reason": f"at most {len(known)} fields"})
    if bad:
        raise InvalidInput("invalid grant", fields=bad)


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
    # The catalogue the field names are checked against (a grown one in a later version).
    catalogue: InitVar[Catalogue] = CATALOGUE

    def __post_init__(self, catalogue: Catalogue) -> None:
        _check_fields(self.fields, f"grant {self.id}", catalogue)
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
    catalogue: InitVar[Catalogue] = CATALOGUE

    def __post_init__(self, catalogue: Catalogue) -> None:
        _check_fields(self.fields, f"report grant {self.id}", catalogue)
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
    # Every field of the catalogue the decision was made under.
    offered: frozenset[str] = field(default=readable(CATALOGUE), repr=False, compare=False)

    @property
    def withheld(self) -> frozenset[str]:
        """Catalogue fields the reader does not see."""
        return self.offered - self.fields


@functools.lru_cache(maxsize=16)
def _fixed(grantable: tuple[str, ...]) -> tuple[Decision, Decision]:
    # The submitter's and the default-deny decisions, made once per catalogue (hot path).
    every = _readable(grantable)
    own = Decision(visible=True, fields=every, submitter=True, offered=every)
    return own, Decision(visible=False, fields=frozenset(), offered=every)


def _conditions_hold(grant: Grant, report: ReportMeta) -> bool:
    # The hot path, so plain lookups; `explain.py` reads its own table of these conditions,
    # and a property test (explain agrees with decide) keeps the two in step.
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
    *,
    catalogue: Catalogue = CATALOGUE,
) -> Decision:
    """The fields of `report` that `reader` may see: default deny, union over matching grants."""
    own, deny = _fixed(catalogue.grantable)
    if reader.partner == report.partner:
        return own
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
        return deny
    return Decision(visible=True, fields=fields, matched=tuple(matched), offered=own.fields)


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
