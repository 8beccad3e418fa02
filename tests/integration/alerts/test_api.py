"""The lawyer API: watchlist and profile, scopes, isolation between lawyers, bad input."""

from __future__ import annotations

import pytest

from libs.common.auth.fastapi import public_routes, undeclared_routes
from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack
from tests.integration.alerts.support import tokens_for
from tests.support.reports import token_value

LEV = tokens_for("Лев Скорякин", "1999-03-14")


async def test_every_route_declares_its_scopes_and_only_health_seal_and_ack_links_are_public(
    stack: AlertsStack,
) -> None:
    assert undeclared_routes(stack.app) == []
    assert public_routes(stack.app) == [
        "GET /healthz",
        "GET /readyz",
        "GET /v1/ack/{token}",
        "GET /v1/sys/seal-status",
        "POST /v1/ack/{token}",
        "POST /v1/sys/unseal",
    ]


async def test_watchlist_add_is_idempotent_by_label_and_conflicts_on_other_content(
    stack: AlertsStack,
) -> None:
    first = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": LEV}
    )
    again = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": LEV}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "unchanged"
    assert first.json()["token_count"] == 7
    assert first.json()["rule"]["incident_types"] == sorted(
        ["detention", "extradition_request", "extradition_decision", "deportation", "abduction"]
    )
    other = tokens_for("Anna Petrova", "1987-05-02")
    clash = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": other}
    )
    assert clash.status_code == 409 and clash.json()["code"] == "conflict"
    replaced = await stack.call(
        "POST",
        "/v1/watchlist/entries",
        json={"label": "client 1", "tokens": other, "replace": True, "rule": {"countries": ["KG"]}},
    )
    assert replaced.status_code == 200 and replaced.json()["status"] == "replaced"
    assert replaced.json()["rule"]["countries"] == ["KG"]
    listed = (await stack.call("GET", "/v1/watchlist/entries")).json()
    assert [e["label"] for e in listed["entries"]] == ["client 1"]
    assert "tokens" not in listed["entries"][0]

    entry_id = first.json()["id"]
    assert (await stack.call("DELETE", f"/v1/watchlist/entries/{entry_id}")).status_code == 204
    assert (await stack.call("GET", f"/v1/watchlist/entries/{entry_id}")).status_code == 404
    # The label is free again once removed.
    readd = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": LEV}
    )
    assert readd.status_code == 201 and readd.json()["id"] != entry_id


async def test_lawyers_see_only_their_own_entries_profiles_and_alerts(stack: AlertsStack) -> None:
    mine = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": LEV}
    )
    entry_id = mine.json()["id"]
    await stack.call("PUT", "/v1/lawyer/profile", json={"email": {"address": "a@example.org"}})
    other = {"client_id": "lawyer-2", "org": "bar-2"}
    assert (
        await stack.call("GET", f"/v1/watchlist/entries/{entry_id}", **other)
    ).status_code == 404
    assert (
        await stack.call("DELETE", f"/v1/watchlist/entries/{entry_id}", **other)
    ).status_code == 404
    assert (await stack.call("GET", "/v1/watchlist/entries", **other)).json()["entries"] == []
    assert (await stack.call("GET", "/v1/lawyer/profile", **other)).json()["contacts"] == []
    # The same label is another lawyer's own business.
    theirs = await stack.call(
        "POST", "/v1/watchlist/entries", json={"label": "client 1", "tokens": LEV}, **other
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != entry_id
    assert (await stack.call("GET", "/v1/alerts/not-an-alert", **other)).status_code == 404
    assert (await stack.call("POST", "/v1/alerts/not-an-alert/ack", **other)).status_code == 404


async def test_scopes_are_enforced(stack: AlertsStack) -> None:
    body = {"label": "client 1", "tokens": LEV}
    assert (await stack.http.post("/v1/watchlist/entries", json=body)).status_code == 401
    reader = {"scopes": ("alerts:read",)}
    assert (
        await stack.call("POST", "/v1/watchlist/entries", json=body, **reader)
    ).status_code == 403
    assert (await stack.call("GET", "/v1/lawyer/profile", **reader)).status_code == 403
    assert (await stack.call("POST", "/v1/alerts/x/ack", **reader)).status_code == 403
    manager = {"scopes": ("watchlist:manage",)}
    assert (await stack.call("GET", "/v1/alerts", **manager)).status_code == 403
    submitter = {"scopes": ("reports:submit",)}
    assert (await stack.call("GET", "/v1/watchlist/entries", **submitter)).status_code == 403


BAD_ENTRIES = [
    ("no tokens", {"label": "c", "tokens": []}, "tokens"),
    ("unknown field (a name)", {"label": "c", "tokens": LEV, "name": "Lev"}, "name"),
    ("empty label", {"label": "", "tokens": LEV}, "label"),
    ("control char", {"label": "c\x1b[31m", "tokens": LEV}, "label"),
    ("long label", {"label": "x" * 201, "tokens": LEV}, "label"),
    (
        "random token kind",
        {"label": "c", "tokens": [{"kind": "full_dob", "version": 1, "value": token_value()}]},
        "tokens",
    ),
    (
        "short value",
        {"label": "c", "tokens": [{"kind": "name_dob", "version": 1, "value": "A" * 20}]},
        "tokens",
    ),
    (
        "bad incident type",
        {"label": "c", "tokens": LEV, "rule": {"incident_types": ["arrest"]}},
        "rule.incident_types.0",
    ),
    (
        "bad country",
        {"label": "c", "tokens": LEV, "rule": {"countries": ["XX"]}},
        "rule.countries.0",
    ),
    ("too many tokens", {"label": "c", "tokens": LEV * 5}, "tokens"),
]


@pytest.mark.parametrize(("label", "body", "field"), BAD_ENTRIES, ids=[c[0] for c in BAD_ENTRIES])
async def test_bad_watchlist_entries_are_refused_naming_the_field(
    stack: AlertsStack, label: str, body: dict[str, object], field: str
) -> None:
    resp = await stack.call("POST", "/v1/watchlist/entries", json=body)
    assert resp.status_code == 422, (label, resp.text)
    answer = resp.json()
    assert answer["code"] == "invalid_input"
    assert any(f["path"] == field or f["path"].startswith(field) for f in answer["fields"]), answer
    assert (await stack.call("GET", "/v1/watchlist/entries")).json()["entries"] == []


BAD_PROFILES = [
    ("nothing", {}, "webhook"),
    ("not a url", {"webhook": {"url": "javascript:alert(1)"}}, "webhook.url"),
    ("credentials in url", {"webhook": {"url": "https://u:p@example.org/h"}}, "webhook.url"),
    (
        "bad secret",
        {"webhook": {"url": "https://example.org/h", "secret": "hunter2"}},
        "webhook.secret",
    ),
    ("bad email", {"email": {"address": "not-an-address"}}, "email.address"),
    # Control characters: CR/LF would end the To: header and start one of the sender's choosing.
    *[
        (f"control {c!r} in email", {"email": {"address": f"a{c}@example.org"}}, "email.address")
        for c in ("\r\nBcc: x@example.net\r\n", "\x00", "\x1b", "\x7f", "\u200b", "\x0b")
    ],
    (
        "control in backup address",
        {"backup_contacts": [{"channel": "email", "address": "b\x01@example.org"}]},
        "backup_contacts.0.address",
    ),
    (
        "control in contact name",
        {
            "backup_contacts": [
                {"channel": "email", "address": "b@example.org", "name": "Anna\r\nBcc: x"}
            ]
        },
        "backup_contacts.0.name",
    ),
    (
        "not a pgp key",
        {"email": {"address": "a@example.org", "pgp_public_key": "hello"}},
        "email.pgp_public_key",
    ),
    (
        "backup bad address",
        {
            "email": {"address": "a@example.org"},
            "backup_contacts": [{"channel": "email", "address": "nope"}],
        },
        "backup_contacts.0.address",
    ),
    (
        "secret on email",
        {
            "email": {"address": "a@example.org"},
            "backup_contacts": [
                {"channel": "email", "address": "b@example.org", "secret": "whsec_" + "A" * 40}
            ],
        },
        "backup_contacts.0",
    ),
]


@pytest.mark.parametrize(("label", "body", "field"), BAD_PROFILES, ids=[c[0] for c in BAD_PROFILES])
async def test_bad_profiles_are_refused_naming_the_field(
    stack: AlertsStack, label: str, body: dict[str, object], field: str
) -> None:
    resp = await stack.call("PUT", "/v1/lawyer/profile", json=body)
    assert resp.status_code == 422, (label, resp.text)
    assert any(f["path"].startswith(field) for f in resp.json()["fields"]), resp.json()


async def test_private_webhook_targets_are_refused_unless_allowed(
    nats_server,
    db_url_factory,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.integration.alerts.conftest import alerts_stack_on

    async with alerts_stack_on(
        nats_server.url, db_url_factory("strict"), tmp_path, webhook_allow_private=False
    ) as strict:
        for url in (
            "http://example.org/h",
            "https://127.0.0.1/h",
            "https://10.1.2.3/h",
            "https://localhost/h",
            "https://[::1]/h",
            "https://169.254.169.254/latest",
            "https://[64:ff9b::a9fe:a9fe]/latest",  # NAT64 of the metadata address
            "https://[2002:a00:1::1]/h",  # 6to4 of 10.0.0.1
            "https://[::ffff:127.0.0.1]/h",
            "https://[::7f00:1]/h",
            "https://[fec0::1]/h",
            "https://127.1/h",
            "https://0x7f000001/h",
            "https://2130706433/h",
            "https://0177.0.0.1/h",
            "https://0/h",
        ):
            resp = await strict.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": url}})
            assert resp.status_code == 422, url
            assert resp.json()["fields"] == [{"path": "webhook.url"}], url
        ok = await strict.call(
            "PUT",
            "/v1/lawyer/profile",
            json={"webhook": {"url": "https://hooks.example.org/lifeline"}},
        )
        assert ok.status_code == 200


async def test_profile_keeps_secrets_unless_rotated_and_supplied_secrets_are_not_echoed(
    stack: AlertsStack,
) -> None:
    url = "http://127.0.0.1:9/hook"
    first = (await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": url}})).json()
    assert len(first["new_secrets"]) == 1
    same = (await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": url}})).json()
    assert same["new_secrets"] == {} and same["contacts"][0]["id"] == first["contacts"][0]["id"]
    rotated = (
        await stack.call(
            "PUT", "/v1/lawyer/profile", json={"webhook": {"url": url, "rotate_secret": True}}
        )
    ).json()
    assert set(rotated["new_secrets"]) == {first["contacts"][0]["id"]}
    assert rotated["new_secrets"] != first["new_secrets"]
    mine = "whsec_" + "QUJD" * 10
    supplied = await stack.call(
        "PUT",
        "/v1/lawyer/profile",
        json={
            "webhook": {"url": url, "secret": mine},
            "email": {"address": "lawyer@example.org"},
            "backup_contacts": [
                {"channel": "email", "address": "colleague@example.org", "name": "Anna"}
            ],
        },
    )
    assert supplied.status_code == 200 and mine not in supplied.text
    roles = sorted((c["role"], c["channel"]) for c in supplied.json()["contacts"])
    assert roles == [("backup", "email"), ("primary", "webhook"), ("secondary", "email")]


async def test_organisation_escalation_settings_are_per_organisation(stack: AlertsStack) -> None:
    default = (await stack.call("GET", "/v1/organisation/escalation")).json()
    assert (default["escalate_after_minutes"], default["duty_after_minutes"]) == (10, 30)
    body = {
        "escalate_after_minutes": 5,
        "duty_after_minutes": 15,
        "repeat_every_minutes": 10,
        "max_repeats": 3,
        "duty_contacts": [{"channel": "email", "address": "duty@bar.example", "name": "Duty desk"}],
    }
    put = await stack.call("PUT", "/v1/organisation/escalation", json=body, **ORG_ADMIN)
    assert put.status_code == 200 and put.json()["duty_contacts"][0]["name"] == "Duty desk"
    colleague = await stack.call("GET", "/v1/organisation/escalation", client_id="lawyer-3")
    assert colleague.json()["escalate_after_minutes"] == 5
    elsewhere = await stack.call("GET", "/v1/organisation/escalation", client_id="x", org="bar-9")
    assert (
        elsewhere.json()["escalate_after_minutes"] == 10 and elsewhere.json()["duty_contacts"] == []
    )
    bad = await stack.call(
        "PUT", "/v1/organisation/escalation", json={**body, "max_repeats": -1}, **ORG_ADMIN
    )
    assert bad.status_code == 422


async def test_only_the_partner_administrator_sets_the_organisations_escalation(
    stack: AlertsStack,
) -> None:
    # Duty contacts receive every colleague's unanswered alerts, and the timing decides when
    # anyone else hears of them: one lawyer's key must not redirect or silence them.
    body = {
        "escalate_after_minutes": 60,
        "duty_after_minutes": 600,
        "repeat_every_minutes": 600,
        "max_repeats": 0,
        "duty_contacts": [{"channel": "email", "address": "elsewhere@example.org"}],
    }
    lawyer = await stack.call("PUT", "/v1/organisation/escalation", json=body)
    assert lawyer.status_code == 403, lawyer.text
    assert lawyer.json()["code"] == "forbidden"
    kept = (await stack.call("GET", "/v1/organisation/escalation")).json()
    assert (kept["escalate_after_minutes"], kept["duty_contacts"]) == (10, [])  # nothing written
    admin = await stack.call("PUT", "/v1/organisation/escalation", json=body, **ORG_ADMIN)
    assert admin.status_code == 200, admin.text
    seen = (await stack.call("GET", "/v1/organisation/escalation")).json()  # the lawyers see it
    assert seen["max_repeats"] == 0 and len(seen["duty_contacts"]) == 1
    # The partner administrator reaches nothing else of alerts: no watchlist, profile or alert.
    for method, path in [("GET", "/v1/watchlist/entries"), ("GET", "/v1/lawyer/profile")]:
        assert (await stack.call(method, path, **ORG_ADMIN)).status_code == 403
    assert (await stack.call("GET", "/v1/alerts", **ORG_ADMIN)).status_code == 403


async def test_duty_contacts_cannot_be_due_before_the_backups(stack: AlertsStack) -> None:
    body = {"escalate_after_minutes": 20, "repeat_every_minutes": 10, "max_repeats": 3}
    early = await stack.call(
        "PUT", "/v1/organisation/escalation", json={**body, "duty_after_minutes": 19}, **ORG_ADMIN
    )
    assert early.status_code == 422, early.text
    assert early.json()["code"] == "invalid_input"
    assert [f["path"] for f in early.json()["fields"]] == ["duty_after_minutes"]
    assert "escalate_after_minutes" in early.json()["fields"][0]["reason"]
    kept = (await stack.call("GET", "/v1/organisation/escalation")).json()
    assert kept["duty_after_minutes"] == 30  # nothing was written
    same = await stack.call(
        "PUT", "/v1/organisation/escalation", json={**body, "duty_after_minutes": 20}, **ORG_ADMIN
    )
    assert same.status_code == 200, same.text


async def test_contacts_in_any_role_on_any_channel_are_stored_like_the_shorthand(
    stack: AlertsStack,
) -> None:
    url = "http://127.0.0.1:9/hook"
    generic = await stack.call(
        "PUT",
        "/v1/lawyer/profile",
        json={
            "contacts": [
                {"role": "primary", "channel": "webhook", "address": url},
                {"role": "secondary", "channel": "email", "address": "lawyer@example.org"},
                {"role": "backup", "channel": "email", "address": "b@example.org", "name": "Anna"},
            ]
        },
    )
    assert generic.status_code == 200, generic.text
    stored = generic.json()
    roles = sorted((c["role"], c["channel"]) for c in stored["contacts"])
    assert roles == [("backup", "email"), ("primary", "webhook"), ("secondary", "email")]
    (webhook_id,) = stored["new_secrets"]
    assert next(c for c in stored["contacts"] if c["channel"] == "webhook")["id"] == webhook_id
    shorthand = await stack.call(
        "PUT",
        "/v1/lawyer/profile",
        json={
            "webhook": {"url": url},
            "email": {"address": "lawyer@example.org"},
            "backup_contacts": [{"channel": "email", "address": "b@example.org", "name": "Anna"}],
        },
    )
    # The same contacts: same ids, the secret kept, nothing shown again.
    assert shorthand.json()["contacts"] == stored["contacts"]
    assert shorthand.json()["new_secrets"] == {}


async def test_an_unknown_channel_kind_is_refused_naming_the_field(stack: AlertsStack) -> None:
    profile = await stack.call(
        "PUT",
        "/v1/lawyer/profile",
        json={
            "email": {"address": "a@example.org"},
            "backup_contacts": [{"channel": "fax", "address": "+49 170 1234567"}],
        },
    )
    duty = await stack.call(
        "PUT",
        "/v1/organisation/escalation",
        json={
            "escalate_after_minutes": 5,
            "duty_after_minutes": 15,
            "repeat_every_minutes": 10,
            "max_repeats": 3,
            "duty_contacts": [{"channel": "pager", "address": "+49 170 1234567"}],
        },
        **ORG_ADMIN,
    )
    for resp, path in ((profile, "backup_contacts.0.channel"), (duty, "duty_contacts.0.channel")):
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == "invalid_input"
        assert path in [f["path"] for f in resp.json()["fields"]]
    assert (await stack.call("GET", "/v1/lawyer/profile")).json()["contacts"] == []
