"""Explaining a policy decision: why a reader can or cannot see one field of one report.

Kept apart from `domain.decide` (the hot path): it walks every candidate grant and names each
condition that failed. A property test keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

from libs.common.errors import InvalidInput
from libs.common.reports import Tlp
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.vault.policy.domain import (
    Grant,
    Policy,
    Reader,
    ReportGrant,
    ReportMeta,
    Scope,
    decide,
    readable,
)

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
    *,
    catalogue: Catalogue = CATALOGUE,
) -> list[str]:
    """Why `reader` can or cannot see `field_name` of `report`: a verdict, then one line a grant."""
    if field_name not in readable(catalogue):
        raise InvalidInput("unknown field", fields=[{"path": "field", "reason": "not a field"}])
    policies, report_grants = tuple(policies), tuple(report_grants)
    decision = decide(reader, report, policies, report_grants, catalogue=catalogue)
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
