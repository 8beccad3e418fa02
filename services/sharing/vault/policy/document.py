"""The policy document (JSON-compatible dicts): strict parsing, canonical dump, readable diff."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

from libs.common.auth.roles import READING_ROLES
from libs.common.countries import ISO_3166_ALPHA2
from libs.common.errors import InvalidInput
from libs.common.reports import IncidentType, LegalBasis, Tlp
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.vault.policy.domain import (
    GRANTABLE_TLP,
    TLP_RANK,
    Grant,
    Policy,
    readable,
)

_PARTNER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_GRANT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # no ':' or '/': audit ids embed it
_MAX_GRANTS = 100
_MAX_VALUES = 500

_TOP_KEYS = ("partner", "role", "grants")
_GRANT_KEYS = ("id", "from", "fields", "incident_types", "countries", "legal_bases", "max_tlp")
_TLP_NAMES = [t.value for t in GRANTABLE_TLP]
_INCIDENTS = [t.value for t in IncidentType]
_BASES = [b.value for b in LegalBasis]


class _Cond(NamedTuple):
    """One wildcard-able grant condition, as data shared by parse, dump and diff."""

    key: str  # document key
    attr: str  # Grant attribute
    label: str  # how diff lines name it
    what: str  # how an error names one bad value
    ok: Callable[[str], bool]
    convert: Callable[[str], str]  # document value -> the value a Grant holds
    order: Callable[[str], Any]  # canonical order in a dump


_CONDS: tuple[_Cond, ...] = (
    _Cond("from", "sources", "source partners", "partner id",
          lambda v: _PARTNER_ID.fullmatch(v) is not None, str, str),
    _Cond("incident_types", "incident_types", "incident types", "incident type",
          frozenset(IncidentType).__contains__, IncidentType, _INCIDENTS.index),
    _Cond("countries", "countries", "countries", "country (ISO 3166-1 alpha-2, upper case)",
          ISO_3166_ALPHA2.__contains__, str, str),
    _Cond("legal_bases", "legal_bases", "legal bases", "legal basis",
          frozenset(LegalBasis).__contains__, LegalBasis, _BASES.index),
)  # fmt: skip


class _Errors(list[dict[str, str]]):
    """Every bad path, so one InvalidInput lists them all."""

    def add(self, path: str, reason: str) -> None:
        """Record that the value at `path` is wrong and why."""
        self.append({"path": path, "reason": reason})


def _keys(doc: Mapping[Any, Any], allowed: tuple[str, ...], prefix: str, errors: _Errors) -> None:
    for key in doc:
        if key not in allowed:
            errors.add(f"{prefix}{key}", "unknown key")
    for key in allowed:
        if key not in doc:  # even `role` and wildcards: widening access is never implicit
            errors.add(f"{prefix}{key}", "required")


def _ident(value: object, pattern: re.Pattern[str], path: str, errors: _Errors) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        errors.add(path, f"must match {pattern.pattern}")
        return ""
    return value


def _strings(value: object, path: str, errors: _Errors) -> list[str]:
    # A list, never a bare string: "KG" must not quietly become {"K", "G"} or a wildcard.
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(path, "must be a list of strings")
    elif not value:
        errors.add(path, 'empty: it would match nothing; use ["*"] for any value')
    elif len(value) > _MAX_VALUES:
        errors.add(path, f"at most {_MAX_VALUES} values")
    else:
        return value
    return []


def _scope(value: object, cond: _Cond, path: str, errors: _Errors) -> frozenset[str] | None:
    items = _strings(value, path, errors)
    if "*" in items:
        if len(items) > 1:
            errors.add(path, '"*" must stand alone')
        return None
    for i, item in enumerate(items):
        if not cond.ok(item):
            errors.add(f"{path}.{i}", f"unknown {cond.what}")
    return frozenset(cond.convert(item) for item in items if cond.ok(item))


def _grant(doc: object, path: str, errors: _Errors, catalogue: Catalogue) -> Grant | None:
    if not isinstance(doc, Mapping):
        errors.add(path, "must be an object")
        return None
    before = len(errors)
    _keys(doc, _GRANT_KEYS, f"{path}.", errors)
    gid = _ident(doc.get("id"), _GRANT_ID, f"{path}.id", errors)
    fields = _strings(doc.get("fields"), f"{path}.fields", errors)
    known = readable(catalogue)
    for i, name in enumerate(fields):
        if name not in known:  # "*" too: a field added later must never leak through a wildcard
            errors.add(f"{path}.fields.{i}", "not a field of the catalogue")
    scopes: dict[str, Any] = {
        c.attr: _scope(doc.get(c.key), c, f"{path}.{c.key}", errors) for c in _CONDS
    }
    max_tlp = doc.get("max_tlp")
    if max_tlp == Tlp.RED.value:
        errors.add(f"{path}.max_tlp", "TLP:RED is never grantable by a policy; grant the report")
    elif max_tlp not in _TLP_NAMES:
        errors.add(f"{path}.max_tlp", f"must be one of {', '.join(_TLP_NAMES)}")
    if len(errors) > before:
        return None
    return Grant(
        id=gid,
        fields=frozenset(fields),
        max_tlp=Tlp(str(max_tlp)),
        catalogue=catalogue,
        **scopes,
    )


def parse_policy(doc: object, catalogue: Catalogue = CATALOGUE) -> Policy:
    """A Policy from a document; InvalidInput lists every bad path (unknown keys, values, RED).

    Field names are checked against `catalogue` (the running code's field catalogue).
    """
    errors = _Errors()
    if not isinstance(doc, Mapping):
        raise InvalidInput(
            "invalid policy document", fields=[{"path": "", "reason": "not an object"}]
        )
    _keys(doc, _TOP_KEYS, "", errors)
    partner = _ident(doc.get("partner"), _PARTNER_ID, "partner", errors)
    role = doc.get("role")
    if role is not None and role not in READING_ROLES:
        # A policy for a role no client holds would silently never apply.
        errors.add("role", f"must be null or one of {', '.join(sorted(READING_ROLES))}")
        role = None
    raw = doc.get("grants", [])
    if not isinstance(raw, list) or len(raw) > _MAX_GRANTS:
        errors.add("grants", f"must be a list of at most {_MAX_GRANTS} grants")
        raw = []
    grants: dict[str, Grant] = {}
    for i, item in enumerate(raw):
        grant = _grant(item, f"grants.{i}", errors, catalogue)
        if grant is not None and grant.id in grants:
            errors.add(f"grants.{i}.id", "duplicate grant id")
        elif grant is not None:
            grants[grant.id] = grant
    if errors:
        raise InvalidInput("invalid policy document", fields=list(errors))
    return Policy(partner=partner, role=role, grants=tuple(grants.values()))


def _sorted(values: Collection[str] | None, order: Callable[[str], Any]) -> list[str]:
    return ["*"] if values is None else sorted((str(v) for v in values), key=order)


def dump_policy(policy: Policy, catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """The canonical document: every key present, grants by id, values in catalogue/enum order."""
    grants = []
    for g in policy.grants:
        doc: dict[str, Any] = {c.key: _sorted(getattr(g, c.attr), c.order) for c in _CONDS}
        fields = _sorted(g.fields, catalogue.grantable.index)
        doc |= {"id": g.id, "fields": fields, "max_tlp": g.max_tlp.value}
        grants.append({key: doc[key] for key in _GRANT_KEYS})
    return {"partner": policy.partner, "role": policy.role, "grants": grants}


def _show(values: Collection[str] | None, order: Callable[[str], Any]) -> str:
    return ", ".join(_sorted(values, order))


def _set_change(
    label: str, old: frozenset[str] | None, new: frozenset[str] | None, order: Callable[[str], Any]
) -> list[str]:
    if old == new:
        return []
    if old is None or new is None:  # to or from `*`: added/removed would not say what changed
        return [f"{label} changed: {_show(old, order)} -> {_show(new, order)}"]
    lines = [f"{label} added: {_show(new - old, order)}"] if new - old else []
    return lines + ([f"{label} removed: {_show(old - new, order)}"] if old - new else [])


def _describe(g: Grant, field_order: Callable[[str], Any]) -> str:
    parts = [f"fields {_show(g.fields, field_order)}"]
    parts += [f"{c.label} {_show(getattr(g, c.attr), c.order)}" for c in _CONDS]
    return "; ".join([*parts, f"max TLP {g.max_tlp}"])


def _grant_changes(old: Grant, new: Grant, field_order: Callable[[str], Any]) -> list[str]:
    head = f"grant {new.id}:"
    lines = _set_change(f"{head} fields", old.fields, new.fields, field_order)
    for c in _CONDS:
        lines += _set_change(
            f"{head} {c.label}", getattr(old, c.attr), getattr(new, c.attr), c.order
        )
    if old.max_tlp != new.max_tlp:
        way = "raised" if TLP_RANK[new.max_tlp] > TLP_RANK[old.max_tlp] else "lowered"
        lines.append(f"{head} max TLP {way}: {old.max_tlp} -> {new.max_tlp}")
    return lines


def diff_policies(old: Policy, new: Policy, catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Human-readable changes from `old` to `new` (empty when they grant the same)."""
    order = catalogue.grantable.index
    lines = []
    if (old.partner, old.role) != (new.partner, new.role):
        lines.append(
            f"policy changed: {old.partner}/{old.role or '*'} -> {new.partner}/{new.role or '*'}"
        )
    before = {g.id: g for g in old.grants}
    after = {g.id: g for g in new.grants}
    for gid in sorted(before.keys() - after.keys()):
        lines.append(f"grant {gid} removed: {_describe(before[gid], order)}")
    for gid in sorted(after.keys() - before.keys()):
        lines.append(f"grant {gid} added: {_describe(after[gid], order)}")
    for gid in sorted(before.keys() & after.keys()):
        lines += _grant_changes(before[gid], after[gid], order)
    return lines
