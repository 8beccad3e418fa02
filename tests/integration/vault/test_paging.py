"""Every list of sharing pages one way: walk it by `Link: rel=next`, each row once, in order.

Rows come from the API where one makes them; release requests, which only an alert's lawyer
asks for over the bus, are stored directly, since only their listing is under test here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from libs.common.crypto.hpke_keys import generate_private_key as hpke_key
from libs.common.paging import encode_cursor
from libs.sdk import generate_private_key, public_jwk
from services.sharing.vault.releases.models import RELEASE_REQUESTS
from tests.integration.vault.conftest import Vault, grant, running_vault, vault_settings
from tests.support.access import Client
from tests.support.natsd import NatsServer
from tests.support.paging import Listing, check_walk, walk

ROWS = 5  # more than two pages of LIMIT
LIMIT = 2
BARE = {"items": lambda body: body}
Seeded = tuple[Client | None, str, list[str]]  # who walks (None: the admin), from where, what


async def _get(vault: Vault, who: Client | None) -> Callable[[str], Awaitable[httpx.Response]]:
    async def get(url: str) -> httpx.Response:
        if who is None:
            return await vault.admin_call("GET", url)
        return await vault.call(who, "GET", url)

    return get


async def _partner(vault: Vault) -> str:
    resp = await vault.admin_call("POST", "/v1/admin/partners", json={"name": "Partner"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _client(vault: Vault, partner_id: str) -> str:
    body = {
        "partner_id": partner_id,
        "name": "c",
        "role": "submitter",
        "scopes": ["reports:submit"],
    }
    resp = await vault.admin_call("POST", "/v1/admin/clients", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _partners(vault: Vault) -> Seeded:
    return None, "/v1/admin/partners", [await _partner(vault) for _ in range(ROWS)]


async def _clients(vault: Vault) -> Seeded:
    partner = await _partner(vault)
    made = [await _client(vault, partner) for _ in range(ROWS)]
    # The filter stays in every `Link`: only this partner's clients come back.
    return None, f"/v1/admin/clients?partner_id={partner}", made


async def _keys(vault: Vault) -> Seeded:
    client = await _client(vault, await _partner(vault))
    made = []
    for _ in range(ROWS):
        body = {"public_key": public_jwk(generate_private_key())}
        resp = await vault.admin_call("POST", f"/v1/admin/clients/{client}/keys", json=body)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["kid"])
    return None, f"/v1/admin/clients/{client}/keys", made


async def _enrolments(vault: Vault) -> Seeded:
    client = await _client(vault, await _partner(vault))
    made = []
    for _ in range(ROWS):
        resp = await vault.admin_call("POST", f"/v1/admin/clients/{client}/enrolments")
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    return None, f"/v1/admin/clients/{client}/enrolments", made


async def _seizures(vault: Vault) -> Seeded:
    partner = await _partner(vault)
    made = []
    for _ in range(ROWS):
        body = {"client_id": await _client(vault, partner), "reason": "device lost at a border"}
        resp = await vault.admin_call("POST", "/v1/admin/seizures", json=body)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    return None, "/v1/admin/seizures", made


async def _audit(vault: Vault, order: str) -> Seeded:
    partner = await _partner(vault)
    for _ in range(ROWS):
        await _client(vault, partner)
    whole = await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})
    seqs = [str(e["seq"]) for e in whole.json()["entries"]]
    assert len(seqs) > 2 * LIMIT
    return None, f"/v1/admin/audit?order={order}", seqs


async def _reports(vault: Vault) -> Seeded:
    reader = await vault.client("reports:read", "reports:manage")
    made = [await vault.submit(reader.partner_id) for _ in range(ROWS)]
    return reader, "/v1/reports", made


async def _reads(vault: Vault) -> Seeded:
    reader = await vault.client("reports:read", "reports:manage")
    report = await vault.submit(reader.partner_id)
    for _ in range(ROWS):
        assert (await vault.call(reader, "GET", f"/v1/reports/{report}")).status_code == 200
    found = await vault.call(reader, "GET", f"/v1/reports/{report}/reads")
    return reader, f"/v1/reports/{report}/reads", [str(r["id"]) for r in found.json()]


async def _grants(vault: Vault) -> Seeded:
    owner = await vault.client("reports:read", "reports:manage")
    report = await vault.submit(owner.partner_id)
    made = []
    for _ in range(ROWS):
        body = {"partner_id": await _partner(vault), "fields": ["narrative"]}
        resp = await vault.call(owner, "POST", f"/v1/reports/{report}/grants", json=body)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    return owner, f"/v1/reports/{report}/grants", made


async def _hpke_keys(vault: Vault) -> Seeded:
    reader = await vault.client("reports:read")
    made = []
    for _ in range(ROWS):
        body = {"public_key": hpke_key().public_key.text}
        resp = await vault.call(reader, "POST", "/v1/partners/me/hpke-keys", json=body)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["kid"])
    return reader, "/v1/partners/me/hpke-keys", made


async def _releases(vault: Vault) -> Seeded:
    owner = await vault.client("reports:read", "reports:manage")
    report = await vault.submit(owner.partner_id)
    now = datetime.now(UTC)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "report_id": report,
            "submitter_id": owner.partner_id,
            "partner_id": f"ptn_asking{n}",
            "client_id": "lawyer",
            "alert_id": f"alert{n}",
            "fields": "narrative",
            "status": "pending",
            # Two requests in one instant: the id breaks the tie.
            "requested_at": now - timedelta(seconds=n // 2),
        }
        for n in range(ROWS)
    ]
    async with vault.engine.begin() as conn:
        await conn.execute(RELEASE_REQUESTS.insert(), rows)
    return owner, "/v1/release-requests", [r["id"] for r in rows]


NEWEST = {"order": ("created_at", "id"), "descending": True}
OLDEST = {"order": ("created_at", "id")}
LISTS: dict[str, tuple[Callable[[Vault], Awaitable[Seeded]], Listing]] = {
    "partners": (_partners, Listing(**BARE, ident="id", **OLDEST)),
    "clients": (_clients, Listing(**BARE, ident="id", **OLDEST)),
    "client keys": (_keys, Listing(**BARE, ident="kid", order=("created_at", "kid"))),
    "enrolments": (_enrolments, Listing(**BARE, ident="id", **NEWEST)),
    "seizures": (_seizures, Listing(**BARE, ident="id", **NEWEST)),
    "audit": (
        lambda v: _audit(v, "asc"),
        Listing(lambda b: b["entries"], "seq", ("seq",), next_cursor=True),
    ),
    "audit newest first": (
        lambda v: _audit(v, "desc"),
        Listing(lambda b: b["entries"], "seq", ("seq",), descending=True, next_cursor=True),
    ),
    "reports": (
        _reports,
        Listing(
            lambda b: b["reports"],
            "report_id",
            ("updated_at", "report_id"),
            next_cursor=True,
            always_cursor=True,
        ),
    ),
    "reads": (_reads, Listing(**BARE, ident="id", order=("id",))),
    "grants": (_grants, Listing(**BARE, ident="id", **OLDEST)),
    "hpke keys": (_hpke_keys, Listing(**BARE, ident="kid", order=("created_at", "kid"))),
    "release requests": (
        _releases,
        Listing(
            lambda b: b["requests"],
            "id",
            ("requested_at", "id"),
            descending=True,
            next_cursor=True,
        ),
    ),
}


@pytest.mark.parametrize("name", LISTS)
async def test_every_list_walks_by_link_each_row_once_in_order(vault: Vault, name: str) -> None:
    seed, listing = LISTS[name]
    who, path, made = await seed(vault)
    get = await _get(vault, who)
    sep = "&" if "?" in path else "?"
    found, pages = await walk(get, f"{path}{sep}limit={LIMIT}", listing)
    check_walk([{**i, listing.ident: str(i[listing.ident])} for i in found], listing, made)
    assert pages >= 3, pages
    # One page with room for all holds the same rows in the same order.
    whole, one = await walk(get, f"{path}{sep}limit=200", listing)
    assert one == 1 and [i[listing.ident] for i in whole] == [i[listing.ident] for i in found]
    # A cursor that is none, or another list's, is a 422 naming `cursor`.
    for bad in ("x", "A" * 40, encode_cursor("elsewhere", (0,))):
        resp = await get(f"{path}{sep}cursor={bad}")
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == "invalid_cursor"
        assert resp.json()["fields"][0]["path"] == "cursor"


async def test_the_deprecated_parameters_name_the_same_positions(vault: Vault) -> None:
    reader = await vault.client("reports:read", "reports:manage")
    report = await vault.submit(reader.partner_id)
    for _ in range(3):
        await vault.call(reader, "GET", f"/v1/reports/{report}")
    reads = (await vault.call(reader, "GET", f"/v1/reports/{report}/reads")).json()
    old = await vault.call(
        reader, "GET", f"/v1/reports/{report}/reads", params={"after": reads[0]["id"]}
    )
    assert [r["id"] for r in old.json()] == [r["id"] for r in reads[1:]]
    page = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 2})).json()
    after = await vault.admin_call(
        "GET", "/v1/admin/audit", params={"limit": 2, "after": page["next_after"]}
    )
    by_cursor = await vault.admin_call(
        "GET", "/v1/admin/audit", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert after.json()["entries"] == by_cursor.json()["entries"]
    # The `Link` of a page asked the old way names the cursor only.
    assert "after=" not in after.headers["link"] and "cursor=" in after.headers["link"]


async def test_a_cursor_of_another_partner_shows_only_the_callers_reports(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    mine = [await vault.submit(a.partner_id) for _ in range(3)]
    theirs = [await vault.submit(b.partner_id) for _ in range(3)]
    first = await vault.call(a, "GET", "/v1/reports", params={"limit": 1})
    cursor = first.json()["next_cursor"]
    # A's cursor, and a forged one from the very start, walk B's own reports only.
    for forged in (cursor, encode_cursor("reports", (0, ""))):
        resp = await vault.call(b, "GET", "/v1/reports", params={"cursor": forged, "limit": 50})
        seen = {r["report_id"] for r in resp.json()["reports"]}
        assert seen <= set(theirs) and not seen & set(mine), forged


@pytest.fixture
async def gated(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Vault]:
    """A sharing whose policy changes wait for a second operator (enrolled first)."""
    settings = vault_settings(
        tmp_path, nats_server.url, db_url_factory("sharing"), approval_policy_change=True
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as v:
        await v.client("admin", partner_id=v.admin.partner_id)
        yield v


async def test_approvals_walk_by_link_newest_first(gated: Vault) -> None:
    made = []
    for _ in range(ROWS):
        partner = await _partner(gated)
        doc = {"partner": partner, "role": None, "grants": [grant()]}
        resp = await gated.admin_call("PUT", f"/v1/admin/policies/{partner}", json=doc)
        assert resp.status_code == 202, resp.text
        made.append(resp.json()["approval"]["id"])
    listing = Listing(**BARE, ident="id", order=("requested_at", "id"), descending=True)
    get = await _get(gated, None)
    found, pages = await walk(get, f"/v1/admin/approvals?limit={LIMIT}", listing)
    check_walk(found, listing, made)
    assert pages == 3
