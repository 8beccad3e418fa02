"""The console speaks for the server: every error code, field and word the services use has a
message in both of the console's catalogues, and its field list is the catalogue's."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import services
from libs.common.auth.roles import ROLE_SCOPES, Role
from libs.common.auth.scopes import ALL_SCOPES
from libs.common.crypto.hpke_keys import HpkeSuite
from libs.common.crypto.kek import KekState
from libs.common.errors import LifelineError
from libs.common.identity.canonical import Kind
from libs.common.identity.match import Strength
from libs.common.reports.fields import FIELDS
from libs.common.reports.vocabulary import (
    FacilityKind,
    IncidentType,
    LegalBasis,
    Status,
    Subject,
    Tlp,
)
from libs.common.web import _STATUS_CODES
from services.alerts.alerts.domain import OUTCOMES
from services.alerts.delivery import channels
from services.alerts.matching.domain import Priority
from services.sharing.approvals.domain import ApprovalAction, ApprovalStatus
from services.sharing.seizure.domain import SeizureStatus, Taken
from services.sharing.vault.keys.keystore import ACTIVE, RETIRING

WEB = Path(__file__).parents[3] / "services" / "console" / "web" / "src"
LANGUAGES = ("en", "ru")
# The token endpoint answers in RFC 6749's error form; its codes are fixed by the RFC's list.
OAUTH_CODES = re.compile(r"OAuthError\(\s*\"([a-z_]+)\"|\"(invalid_target)\"")


def _catalogue(lang: str) -> dict[str, object]:
    return json.loads((WEB / "i18n" / f"{lang}.json").read_text())


def _all_error_codes() -> set[str]:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    codes: set[str] = set()
    todo = [LifelineError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code)
        todo.extend(cls.__subclasses__())
    sources = Path(services.__path__[0]).rglob("*.py")
    for source in sources:
        for match in OAUTH_CODES.finditer(source.read_text()):
            codes.add(match.group(1) or match.group(2))
    return codes | set(_STATUS_CODES.values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_code_has_a_message(lang: str) -> None:
    codes = _all_error_codes()
    assert {"invalid_client", "link_used", "invalid_enrolment_code", "not_found"} <= codes
    missing = sorted(c for c in codes if f"error.{c}" not in _catalogue(lang))
    assert not missing, f"no {lang} message for error codes: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_of_the_vocabulary_has_a_message(lang: str) -> None:
    catalogue = _catalogue(lang)
    words = (
        [f"incident.{v}" for v in IncidentType]
        + [f"basis.{v}" for v in LegalBasis]
        + [f"facility.{v}" for v in FacilityKind]
        + [f"report_status.{v}" for v in Status]
        + [f"priority.{v}" for v in Priority]
        + [f"strength.{v}" for v in Strength if v != Strength.NONE]
        + [f"token.{v}" for v in Kind]
        + [f"field.{f.name}" for f in FIELDS]
    )
    missing = [w for w in words if w not in catalogue]
    assert not missing, f"no {lang} message for: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_of_the_security_section_has_a_message(lang: str) -> None:
    catalogue = _catalogue(lang)
    words = (
        [f"approval_action.{v}" for v in ApprovalAction]
        + [f"approval_status.{v}" for v in ApprovalStatus]
        + [f"seizure_status.{v}" for v in SeizureStatus]
        + [f"taken.{name}" for name in Taken().counts()]
        + [f"kek_state.{v}" for v in KekState]
        + [f"suite.{suite.label}" for suite in HpkeSuite]
        + [f"sealing_state.{state}" for state in (ACTIVE, RETIRING)]
    )
    missing = [w for w in words if w not in catalogue]
    assert not missing, f"no {lang} message for: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_identity_input_error_has_a_message(lang: str) -> None:
    rules = json.loads((Path(__file__).parents[3] / "libs/common/identity/rules.json").read_text())
    codes = [c for c in rules["errors"] if not c.startswith("_")]
    assert "dob_format" in codes
    missing = [c for c in codes if f"identity.{c}" not in _catalogue(lang)]
    assert not missing, f"no {lang} message for identity errors: {missing}"


def test_the_console_offers_the_outcomes_the_service_takes() -> None:
    source = (WEB / "types.ts").read_text()
    block = source.split("export const OUTCOMES = [", 1)[1].split("]", 1)[0]
    assert tuple(re.findall(r'"([a-z_]+)"', block)) == OUTCOMES
    for lang in LANGUAGES:
        assert all(f"outcome.{o}" in _catalogue(lang) for o in OUTCOMES)


def test_the_console_lists_the_catalogue_fields_in_order() -> None:
    source = (WEB / "fields.ts").read_text()
    block = source.split("export const REPORT_FIELDS = [", 1)[1].split("]", 1)[0]
    listed = re.findall(r'"([a-z_.]+)"', block)
    assert listed == [f.name for f in FIELDS]


def test_the_console_offers_each_role_the_scopes_the_registry_allows() -> None:
    source = (WEB / "views" / "admin" / "model.ts").read_text()
    block = source.split("export const ROLE_SCOPES", 1)[1].split("};", 1)[0]
    offered = {
        role: frozenset(re.findall(r'"([a-z:]+)"', scopes))
        for role, scopes in re.findall(r"(\w+): \[([^\]]*)\]", block)
    }
    assert offered == {role.value: scopes for role, scopes in ROLE_SCOPES.items()}
    defaults = source.split("export const DEFAULT_SCOPES", 1)[1].split("};", 1)[0]
    for role, scopes in re.findall(r"(\w+): \[([^\]]*)\]", defaults):
        assert set(re.findall(r'"([a-z:]+)"', scopes)) <= ROLE_SCOPES[Role(role)], role
    for lang in LANGUAGES:
        catalogue = _catalogue(lang)
        assert all(f"client_role.{r.value}" in catalogue for r in Role)
        assert all(f"scope.{s}" in catalogue for s in ALL_SCOPES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_field_has_a_label_and_a_help_text_in_the_form(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing = [
        key
        for f in FIELDS
        for key in (f"field.{f.name}", f"report.help.{f.name}")
        if not str(catalogue.get(key, "")).strip()
    ]
    assert not missing, f"no {lang} label or help text for: {missing}"


def test_the_report_form_offers_the_vocabulary_the_service_takes() -> None:
    source = (WEB / "report.ts").read_text()

    def listed(name: str) -> list[str]:
        block = source.split(f"export const {name} = [", 1)[1].split("]", 1)[0]
        return re.findall(r'"([A-Za-z_+]+)"', block)

    assert listed("INCIDENT_TYPES") == [v.value for v in IncidentType]
    assert listed("LEGAL_BASES") == [v.value for v in LegalBasis]
    assert listed("FACILITY_KINDS") == [v.value for v in FacilityKind]
    assert listed("STATUSES") == [v.value for v in Status]
    assert listed("TLPS") == [v.value for v in Tlp]
    sexes = Subject.model_fields["sex"].annotation.__args__  # type: ignore[union-attr]
    assert sorted(listed("SEXES")) == sorted(sexes)


def test_the_console_uploads_the_columns_the_cli_reads() -> None:
    from libs.sdk.report_files import CSV_COLUMNS

    source = (WEB / "uploads" / "report-rows.ts").read_text()
    block = source.split("export const REPORT_COLUMNS = [", 1)[1].split("]", 1)[0]
    assert re.findall(r'"([a-z_]+)"', block) == [name for name, _ in CSV_COLUMNS]
    # `lifeline watchlist import`'s header (its help names the same columns).
    source = (WEB / "uploads" / "watchlist-rows.ts").read_text()
    block = source.split("export const WATCHLIST_COLUMNS = [", 1)[1].split("]", 1)[0]
    listed = re.findall(r'"([a-z_]+)"', block)
    assert ",".join(listed) == "label,name,dob,incident_types,legal_bases,countries"
    cli = (Path(__file__).parents[3] / "lifeline" / "cli" / "watchlist.py").read_text()
    assert "label,name,dob[,incident_types,legal_bases,countries]" in cli


def test_the_console_offers_every_registered_channel() -> None:
    source = (WEB / "views" / "contacts.tsx").read_text()
    block = source.split("export const CHANNELS = [", 1)[1].split("]", 1)[0]
    assert sorted(re.findall(r'"([a-z]+)"', block)) == sorted(channels.kinds())
    for lang in LANGUAGES:
        catalogue = _catalogue(lang)
        for kind in channels.kinds():
            for key in (f"channel.{kind}", f"contacts.address.{kind}", f"contacts.carries.{kind}"):
                assert key in catalogue, f"no {lang} text {key}"
