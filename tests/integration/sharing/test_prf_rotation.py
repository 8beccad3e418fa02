"""A canonicaliser bump is never a silent miss: the key version carries its binding, clients of
another canonicaliser version refuse loudly, and the operator rotates and retires."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from libs.common.identity.canonical import CANONICAL_VERSION
from libs.sdk.identity import IdentityRulesOutdated, tokenise_identities
from services.sharing.identity.keystore import PrfKeyStore
from tests.integration.vault.conftest import Vault, cli, cli_json, running_vault, vault_settings
from tests.support.natsd import NatsServer

PERSON = [("Lev Skoryakin", "1999-03-14")]


@pytest.fixture
async def vault(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Vault]:
    """A sharing with its first admin (the vault tests' harness)."""
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as v:
        yield v


async def _sharing(v: Vault, *scopes: str) -> httpx.AsyncClient:
    client = await v.client(*scopes)
    return httpx.AsyncClient(base_url=v.url, headers=await v.headers(client), timeout=15)


async def test_rotation_binds_the_new_version_and_other_clients_are_refused(
    vault: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prf = vault.app.state.container.prf
    async with await _sharing(vault, "watchlist:manage") as lawyer:
        info = (await lawyer.get("/v1/identity/prf")).json()
        assert info == {"current_version": 1, "canonical_version": CANONICAL_VERSION}
        [before] = await tokenise_identities(lawyer, PERSON)
        assert {t.version for t in before} == {1}

        # Sharing now runs code with a newer canonicaliser: it says so, and does not switch.
        prf.keys.code_canonical = CANONICAL_VERSION + 1
        with caplog.at_level(logging.WARNING):
            assert prf.warn_if_outdated()
        assert "lifeline admin identity rotate" in caplog.text
        assert (await lawyer.get("/v1/identity/prf")).json()["canonical_version"] == (
            CANONICAL_VERSION
        )

        home = tmp_path / "admin"
        rotated = await cli_json(vault, vault.admin, home, "admin", "identity", "rotate")
        assert rotated == {
            "current_version": 2,
            "canonical_version": CANONICAL_VERSION + 1,
            "previous_version": 1,
        }
        assert not prf.warn_if_outdated()
        info = (await lawyer.get("/v1/identity/prf")).json()
        assert info == {"current_version": 2, "canonical_version": CANONICAL_VERSION + 1}

        # This client is now one canonicaliser version behind: refused before any evaluation.
        sent: list[str] = []
        lawyer.event_hooks["request"].append(lambda r: _note(sent, r))
        with pytest.raises(IdentityRulesOutdated) as refused:
            await tokenise_identities(lawyer, PERSON)
    error = refused.value
    assert (error.status, error.code) == (409, "identity_rules_outdated")
    assert (error.client_version, error.network_version) == (
        CANONICAL_VERSION,
        CANONICAL_VERSION + 1,
    )
    assert "upgrade this client" in error.detail
    assert error.body()["fields"] == [
        {
            "field": "canonical_version",
            "client": CANONICAL_VERSION,
            "network": CANONICAL_VERSION + 1,
        }
    ]
    assert sent == ["/v1/identity/prf"]


async def _note(sent: list[str], request: httpx.Request) -> None:
    sent.append(request.url.path)


async def test_a_client_ahead_of_the_network_names_the_operator(vault: Vault) -> None:
    # The network's key is bound to an older canonicaliser than this client's.
    vault.app.state.container.prf.keys.code_canonical = CANONICAL_VERSION - 1
    assert (await vault.admin_call("POST", "/v1/admin/identity/prf/rotate")).status_code == 200
    async with await _sharing(vault, "reports:submit") as ngo:
        with pytest.raises(IdentityRulesOutdated, match="operator must first rotate"):
            await tokenise_identities(ngo, PERSON)


async def test_retirement_is_refused_for_the_current_version_and_audited(
    vault: Vault, tmp_path: Path
) -> None:
    current = await vault.admin_call("POST", "/v1/admin/identity/prf/1/retire")
    assert (current.status_code, current.json()["code"]) == (409, "conflict")
    assert (await vault.admin_call("POST", "/v1/admin/identity/prf/rotate")).status_code == 200
    unknown = await vault.admin_call("POST", "/v1/admin/identity/prf/9/retire")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    home = tmp_path / "admin"
    retired = await cli_json(vault, vault.admin, home, "admin", "identity", "retire", "1")
    assert retired == {"version": 1, "state": "retired"}
    refused = await cli(vault, vault.admin, home, "admin", "identity", "retire", "2")
    assert refused.returncode != 0 and "409" in refused.stderr + refused.stdout
    async with await _sharing(vault, "reports:submit") as ngo:
        old = await ngo.post("/v1/identity/evaluate", json={"version": 1, "elements": ["A" * 43]})
        assert old.status_code == 422  # a retired version never evaluates again
        assert {t.version for t in (await tokenise_identities(ngo, PERSON))[0]} == {2}
    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    actions = [(e["action"], e["target"]) for e in audit["entries"]]
    assert ("identity.prf_rotate", "prf:v2") in actions
    assert ("identity.prf_retire", "prf:v1") in actions


async def test_only_the_operator_rotates_or_retires(vault: Vault) -> None:
    for scopes in (("reports:submit",), ("watchlist:manage",), ("reports:read",)):
        client = await vault.client(*scopes)
        for path in ("/v1/admin/identity/prf/rotate", "/v1/admin/identity/prf/1/retire"):
            assert (await vault.call(client, "POST", path)).status_code == 403, (scopes, path)
    async with httpx.AsyncClient() as anonymous:
        answer = await anonymous.post(vault.url + "/v1/admin/identity/prf/rotate")
        assert answer.status_code == 401
    assert vault.app.state.container.prf_keys.ring().current == 1


def test_a_key_store_written_before_the_binding_is_canonicaliser_version_1(tmp_path: Path) -> None:
    path = tmp_path / "prf-keys.json"
    assert PrfKeyStore.open(path, canonical=2).seeds().canonical == 2
    doc = json.loads(path.read_text())
    for version in doc["versions"]:
        del version["canonical"]
    path.write_text(json.dumps(doc))
    store = PrfKeyStore.open(path, canonical=2)
    assert store.seeds().canonical == 1
    assert store.rotate() == 2 and store.seeds().canonical == 2
