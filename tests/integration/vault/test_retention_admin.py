"""Retention as administrators set and see it: the routes, their refusals, the second approval
a shortening needs when erasures need one, and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.vault.conftest import Vault, cli, cli_json, running_vault, vault_settings
from tests.integration.vault.test_retention import audit
from tests.support.access import Client
from tests.support.natsd import NatsServer


@pytest.fixture
async def gated(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[Vault, Client]]:
    """A sharing whose erasures wait for a second operator, and that operator."""
    settings = vault_settings(
        tmp_path, nats_server.url, db_url_factory("sharing"), approval_erasure=True
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as v:
        yield v, await v.client("admin", partner_id=v.admin.partner_id)


async def test_periods_are_checked_and_partner_administrators_see_only_their_own(
    vault: Vault,
) -> None:
    a = await vault.client("clients:manage")
    b = await vault.client("clients:manage")
    path = f"/v1/admin/partners/{a.partner_id}/retention"
    for body in ({"days": 0}, {"tlp": {"PURPLE": 3}}, {"tlp": {"RED": 40000}}, {"forever": 1}):
        resp = await vault.admin_call("PUT", path, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["error"] == "invalid_input"
    missing = await vault.admin_call("PUT", "/v1/admin/partners/nobody/retention", json={})
    assert missing.status_code == 404
    assert await audit(vault, "retention.set") == []  # nothing refused was recorded

    assert (await vault.call(a, "GET", path)).json()["own"] == {"days": None, "tlp": {}}
    assert (await vault.call(b, "GET", path)).status_code == 404
    # Only the operator sets it, not the partner whose reports it erases.
    assert (await vault.call(a, "PUT", path, json={"days": 5})).status_code == 403


async def test_shortening_waits_for_a_second_operator_lengthening_does_not(
    gated: tuple[Vault, Client],
) -> None:
    vault, second = gated
    a = await vault.client("reports:read", "reports:manage")
    path = f"/v1/admin/partners/{a.partner_id}/retention"

    asked = await vault.admin_call("PUT", path, json={"days": 30})

    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval"]
    assert approval["action"] == "erasure"
    assert approval["request"] == {"partner_id": a.partner_id, "retention": {"days": 30, "tlp": {}}}
    assert (await vault.admin_call("GET", path)).json()["own"]["days"] is None
    done = await vault.call(second, "POST", f"/v1/admin/approvals/{approval['id']}/approve")
    assert done.json()["status"] == "done", done.text
    assert (await vault.admin_call("GET", path)).json()["own"]["days"] == 30
    (entry,) = await audit(vault, "retention.set")
    assert entry["actor"] == vault.admin.client_id and entry["details"]["shortens"] is True

    # A longer period erases nothing sooner: it applies at once.
    longer = await vault.admin_call("PUT", path, json={"days": 60})
    assert longer.status_code == 200, longer.text
    assert longer.json()["effective"]["RED"] == 60


async def test_the_cli_sets_and_shows_retention(vault: Vault, tmp_path: Path) -> None:
    a = await vault.client("reports:read")
    home = tmp_path / "operator"

    out = await cli_json(
        vault, vault.admin, home, "admin", "partner", "set-retention", a.partner_id,
        "--days", "365", "--tlp", "RED=30",
    )  # fmt: skip

    assert out["own"] == {"days": 365, "tlp": {"RED": 30}}
    shown = await cli_json(vault, vault.admin, home, "admin", "partner", "show", a.partner_id)
    assert shown["id"] == a.partner_id and shown["retention"]["effective"]["RED"] == 30
    human = await cli(vault, vault.admin, home, "admin", "partner", "show", a.partner_id)
    assert "RED 30 d" in human.stdout and "AMBER 365 d" in human.stdout, human.stdout
    network = await cli(vault, vault.admin, home, "admin", "retention", "show")
    assert network.returncode == 0, network.stderr
    assert "reports: kept by default" in network.stdout
    bad = await cli(
        vault, vault.admin, home, "admin", "partner", "set-retention", a.partner_id,
        "--days", "1", "--tlp", "RED",
    )  # fmt: skip
    assert bad.returncode != 0 and "TLP=DAYS" in bad.stderr
