"""Signing, links, secrets, message texts and webhook targets, checked without network I/O."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from libs.common.errors import InvalidInput, LifelineError
from services.alerts.alerts.link_keys import LinkKeys
from services.alerts.alerts.links import AckLinks, LinkExpired
from services.alerts.delivery.channels.webhook import (
    WebhookSender,
    check_url,
    generate_secret,
    payload_bytes,
    pinned,
    sign,
)
from services.alerts.delivery.domain import AlertView, SendResult
from services.alerts.delivery.messages.mail import email_subject, email_text
from services.alerts.delivery.pools import PinnedPools
from services.alerts.delivery.secrets import SecretBox

VIEW = AlertView(
    alert_id="a-1",
    label="client 12",
    priority="highest",
    decision="strong",
    reason="whole name and full date of birth agree",
    agreed="name,name_dob",
    incident_type="detention",
    legal_basis="cis_interstate_search",
    country="KG",
    facility_kind="airport",
    occurred_at="2026-11-20T06:40:00+06:00",
    report_id="r-1",
    report_count=1,
    report_url="https://sharing.example/v1/reports/r-1",
    ack_url="https://alerts.example/v1/ack/t",
    alert_url="https://alerts.example/v1/alerts/a-1",
    kind="alert",
    step=0,
    role="primary",
)


def test_signatures_verify_with_the_standardwebhooks_library() -> None:
    secret = generate_secret()
    now = datetime.now(UTC)
    body = payload_bytes(VIEW, now)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sign(secret, "msg_1", int(now.timestamp()), body),
    }
    assert Webhook(secret).verify(body, headers)["data"]["alert_id"] == "a-1"
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"client 12", b"client 13"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})


def test_payload_carries_what_the_lawyer_needs_and_no_name() -> None:
    data = json.loads(payload_bytes(VIEW, datetime.now(UTC)))
    assert data["type"] == "alert.created"
    assert set(data["data"]) >= {
        "alert_id", "label", "priority", "match", "incident_type", "legal_basis", "country",
        "facility_kind", "occurred_at", "report_url", "ack_url", "alert_url",
    }  # fmt: skip
    assert data["data"]["match"] == {
        "strength": "strong",
        "reason": VIEW.reason,
        "agreed": ["name", "name_dob"],
    }


def test_plain_email_is_minimal_and_encrypted_email_says_more() -> None:
    assert email_subject(VIEW) == "Lifeline alert — action needed"
    plain = email_text(VIEW, encrypted=False)
    assert "client 12" not in plain and "KG" not in plain
    # In the clear: never the link that acts, even if one was handed in; sign-in instead.
    assert VIEW.ack_url not in plain and "/v1/ack/" not in plain and VIEW.alert_url in plain
    assert "lifeline alerts ack a-1" in plain
    secret = email_text(VIEW, encrypted=True)
    assert "client 12" in secret and "cis_interstate_search" in secret and VIEW.ack_url in secret


def test_a_withdrawal_says_so_with_nothing_to_open_or_acknowledge() -> None:
    view = dataclasses.replace(VIEW, kind="withdrawal", step=1_001)
    data = json.loads(payload_bytes(view, datetime.now(UTC)))
    assert data["type"] == "alert.withdrawn"
    assert data["data"]["report_url"] is None and data["data"]["ack_url"] is None
    assert email_subject(view) == "Lifeline alert — withdrawn"
    for encrypted in (False, True):
        text = email_text(view, encrypted=encrypted)
        assert "withdrawn" in text and "a-1" in text
        assert VIEW.ack_url not in text and VIEW.report_url not in text and "KG" not in text


def test_ack_links_are_signed_bound_and_expire(tmp_path: Path) -> None:
    links = AckLinks(LinkKeys(tmp_path / "k", rotate_s=3600, now=1000), ttl_s=60)
    token = links.make("alert-1", "contact-1", now=1000)
    link = links.verify(token, now=1059)
    assert (link.alert_id, link.contact_id, link.expires) == ("alert-1", "contact-1", 1060)
    assert links.verify(links.make("alert-1", "contact-1", now=1000), 1000).link_id != link.link_id
    with pytest.raises(LinkExpired):
        links.verify(token, now=1061)
    head, _, mac = token.partition(".")
    forged = links.make("alert-2", "contact-1", now=1000).partition(".")[0] + "." + mac
    for bad in (forged, token + "x", "garbage", "", head, "a.b.c", "|||||.x"):
        with pytest.raises(InvalidInput):
            links.verify(bad, now=1000)
    other = AckLinks(LinkKeys(tmp_path / "other", rotate_s=3600, now=1000), ttl_s=60)
    with pytest.raises(InvalidInput):
        other.verify(token, now=1000)


def test_link_keys_rotate_by_id_and_the_previous_key_verifies_until_retired(
    tmp_path: Path,
) -> None:
    keys = LinkKeys(tmp_path / "k", rotate_s=100, now=0)
    links = AckLinks(keys, ttl_s=60)
    first = links.make("a", "c", now=50)  # key 1
    second = links.make("a", "c", now=100)  # key 1 is 100 s old: key 2 signs from now
    assert [k.id for k in keys.rotate(100, due_only=True)] == [1, 2]  # due once, not twice
    assert links.verify(first, now=105).alert_id == "a"  # previous key, link not expired
    assert links.verify(second, now=150).alert_id == "a"
    links.make("a", "c", now=200)  # key 3: key 1 is retired
    with pytest.raises(InvalidInput):
        links.verify(first, now=105)
    assert links.verify(second, now=150).alert_id == "a"
    # Another replica reading the same file sees the same ring.
    assert [k.id for k in LinkKeys(tmp_path / "k", rotate_s=100, now=0).ring()] == [2, 3]


def test_webhook_secrets_at_rest_are_bound_to_their_contact() -> None:
    box = SecretBox(os.urandom(32))
    blob = box.seal("c1", "whsec_abc")
    assert b"whsec" not in blob and box.open("c1", blob) == "whsec_abc"
    with pytest.raises(LifelineError):
        box.open("c2", blob)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.org/x",
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://192.168.1.1/x",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "https://localhost./x",
        "https://db.internal/x",
        # IPv4 inside IPv6: judged as the IPv4 address a gateway turns them into.
        "https://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a00:1]/x",  # NAT64 of 10.0.0.1
        "https://[64:ff9b:1::a00:1]/x",  # local-use NAT64
        "https://[2002:a9fe:a9fe::1]/x",  # 6to4 of 169.254.169.254
        "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped
        "https://[::ffff:a00:1]/x",
        "https://[::127.0.0.1]/x",  # IPv4-compatible
        "https://[::c0a8:101]/x",
        "https://[fec0::1]/x",  # site-local
        "https://[::]/x",
        # Numeric forms getaddrinfo reads as 127.0.0.1 or 0.0.0.0.
        "https://127.1/x",
        "https://0x7f000001/x",
        "https://2130706433/x",
        "https://0177.0.0.1/x",
        "https://127.0.0.1./x",
        "https://0/x",
        "https://hooks.example.0x1/x",
    ],
)
def test_private_webhook_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


def test_public_https_webhooks_are_accepted() -> None:
    check_url("https://hooks.example.org/lifeline", allow_private=False)
    check_url("https://8.8.8.8/hook", allow_private=False)
    check_url("https://[2606:4700::1]/hook", allow_private=False)
    # A transition form of a public IPv4 address is that address.
    check_url("https://[64:ff9b::808:808]/hook", allow_private=False)
    check_url("https://[2002:808:808::1]/hook", allow_private=False)
    check_url("https://hooks.example.org./hook", allow_private=False)
    check_url("https://1password.example/hook", allow_private=False)


class _Rebinding:
    """A DNS answer that turns into an inside address after the first lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers, self.calls = list(answers), 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


async def _send(
    resolver: _Rebinding, url: str, fails: dict[str, type[httpx.HTTPError]] | None = None
) -> tuple[SendResult, list[httpx.Request]]:
    """One send; a request to a host in `fails` raises that error instead of an answer."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        error = (fails or {}).get(request.url.host)
        if error is not None:
            raise error("refused", request=request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        sender = WebhookSender(http, allow_private=False, resolver=resolver)
        result = await sender.send(url, generate_secret(), "msg-1", b"{}", datetime.now(UTC))
    return result, seen


async def test_a_webhook_goes_to_the_address_that_was_checked() -> None:
    resolver = _Rebinding(["93.184.215.14"], ["127.0.0.1"])
    result, (request,) = await _send(resolver, "https://hooks.example.org:8443/lifeline?x=1")
    assert result.outcome == "delivered" and resolver.calls == 1
    assert str(request.url) == "https://93.184.215.14:8443/lifeline?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.headers["connection"] == "close"  # no pooled TLS session of another name
    assert request.extensions["sni_hostname"] == "hooks.example.org"


async def test_pinned_sends_keep_a_client_per_name_and_address_without_closing() -> None:
    seen: list[httpx.Request] = []
    made: list[httpx.AsyncClient] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    def factory() -> httpx.AsyncClient:
        made.append(httpx.AsyncClient(transport=httpx.MockTransport(answer)))
        return made[-1]

    pools = PinnedPools(factory, size=1)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as shared:
        resolver = _Rebinding(["93.184.215.14"])
        sender = WebhookSender(shared, allow_private=False, resolver=resolver, pools=pools)
        for url in (
            "https://a.example.org/h",
            "https://a.example.org/h",
            "https://b.example.org/h",
        ):
            result = await sender.send(url, generate_secret(), "m", b"{}", datetime.now(UTC))
            assert result.outcome == "delivered"
        assert resolver.calls == 3  # every send checks the name again
        await sender.poster.aclose()
    assert [r.headers["host"] for r in seen] == ["a.example.org", "a.example.org", "b.example.org"]
    assert all(r.headers["connection"] == "keep-alive" for r in seen)  # its own pool
    # One client per (name, address); beyond `size` the least recently used idle one is closed.
    assert len(made) == 2 and made[0].is_closed and made[1].is_closed


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["93.184.215.14", "10.0.0.7"], "private_target"),
        (["64:ff9b::a00:7"], "private_target"),  # NAT64 of 10.0.0.7
        (["2002:7f00:1::1"], "private_target"),  # 6to4 of 127.0.0.1
        (["::ffff:169.254.169.254"], "private_target"),
        (["::a00:7"], "private_target"),  # IPv4-compatible
        (["fec0::7"], "private_target"),
        ([], "dns_failure"),
    ],
)
async def test_a_webhook_name_with_an_inside_or_no_address_is_not_called(
    answer: list[str], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result, seen = await _send(_Rebinding(answer), "https://hooks.example.org/lifeline")
    # One answer for the lawyer whatever the cause: no oracle of this network's DNS.
    assert (result.outcome, result.error, seen) == ("retry", "target_unreachable", [])
    # The operator's log keeps the cause, never the host.
    assert [r.__dict__.get("reason") for r in caplog.records] == [reason]
    assert "hooks.example.org" not in caplog.text


async def test_an_address_that_cannot_be_reached_gives_way_to_the_next() -> None:
    # A dead IPv6 route beside a working IPv4 one: the page still goes out in this attempt.
    answer = ["2606:4700::1", "2606:4700::1", "93.184.215.14"]
    fails = {"2606:4700::1": httpx.ConnectError}
    result, seen = await _send(_Rebinding(answer), "https://hooks.example.org/h", fails)
    assert result.outcome == "delivered"
    assert [r.url.host for r in seen] == ["2606:4700::1", "93.184.215.14"]
    assert len({r.headers["webhook-id"] for r in seen}) == 1
    assert len({r.headers["webhook-signature"] for r in seen}) == 1


@pytest.mark.parametrize(
    ("fails", "tried", "error"),
    [
        # Nothing got through anywhere: retried later.
        (
            {"93.184.215.14": httpx.ConnectError, "93.184.215.15": httpx.ConnectTimeout},
            2,
            "ConnectTimeout",
        ),
        # The first address may have the page already: never sent twice in one attempt.
        ({"93.184.215.14": httpx.ReadTimeout}, 1, "ReadTimeout"),
    ],
)
async def test_a_page_is_sent_to_a_second_address_only_when_the_first_never_got_it(
    fails: dict[str, type[httpx.HTTPError]], tried: int, error: str
) -> None:
    answer = ["93.184.215.14", "93.184.215.15"]
    result, seen = await _send(_Rebinding(answer), "https://hooks.example.org/h", fails)
    assert (result.outcome, result.error, len(seen)) == ("retry", error, tried)


def test_pinning_keeps_port_path_and_brackets_ipv6() -> None:
    url, headers, extensions = pinned("https://hooks.example.org/a/b?c=d", "2606:4700::1")
    assert url == "https://[2606:4700::1]/a/b?c=d"
    assert headers == {"host": "hooks.example.org", "connection": "close"}
    assert extensions == {"sni_hostname": "hooks.example.org"}
    url, headers, _ = pinned("https://u:p@hooks.example.org:8443/h", "93.184.215.14")
    assert (url, headers["host"]) == ("https://u:p@93.184.215.14:8443/h", "hooks.example.org:8443")
