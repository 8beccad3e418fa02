"""The vault's routes declare the scopes the issue asks for (reads need reports:read, admin admin)."""

from __future__ import annotations

from pathlib import Path

from libs.common.auth.fastapi import public_routes, route_scopes
from services.sharing.app import create_app
from services.sharing.settings import SharingSettings

# Any one of them; the service checks whose. A write-only reports:submit key never grants or
# erases.
OWNER = {"reports:manage", "admin"}
# Reading back about a report needs reading rights: a reports:submit client is write-only.
OWNER_READER = {"reports:read", "admin"}
EXPECTED = {
    "GET /v1/reports": {"reports:read"},
    "GET /v1/reports/{report_id}": {"reports:read"},
    "GET /v1/reports/{report_id}/reads": OWNER_READER,
    "GET /v1/reports/{report_id}/grants": OWNER_READER,
    "POST /v1/reports/{report_id}/grants": OWNER,
    "DELETE /v1/reports/{report_id}": OWNER,
    "GET /v1/partners/me/hpke-keys": {"reports:read"},
    "POST /v1/partners/me/hpke-keys": {"reports:read"},
    "DELETE /v1/partners/me/hpke-keys/{kid}": {"reports:read"},
    "GET /.well-known/lifeline/delivery-signing-keys": set(),
}


def test_vault_routes_declare_their_scopes(tmp_path: Path) -> None:
    scopes = route_scopes(create_app(SharingSettings(data_dir=tmp_path)))
    for route, expected in EXPECTED.items():
        assert scopes[route] == expected, route
    admin = [
        r for r in scopes if "/v1/admin/policies" in r or "/v1/admin/vault" in r or "explain" in r
    ]
    assert len(admin) == 11  # 4 policy routes, 7 key routes
    assert all(scopes[r] == {"admin"} for r in admin)


def test_only_the_signing_keys_are_public(tmp_path: Path) -> None:
    public = public_routes(create_app(SharingSettings(data_dir=tmp_path)))
    vault_public = [
        r for r in public if "delivery" in r or "/v1/reports" in r or "/v1/admin/vault" in r
    ]
    assert vault_public == ["GET /.well-known/lifeline/delivery-signing-keys"]
