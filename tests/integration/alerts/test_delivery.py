"""Delivery: signed webhooks, no redirects, 410, Retry-After, secondary email, OpenPGP, ack links."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pysequoia
from sqlalchemy import select, update

from libs.common.clock import FakeClock
from libs.common.db import transaction
from services.alerts.alerts.models import ALERTS, USED_LINKS
from services.alerts.delivery.models import DeliveryAttempt
from services.alerts.delivery.profiles.models import Contact
from services.alerts.delivery.secrets import SecretBox
from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.integration.alerts.support import Receiver, receiver, report_event, tokens_for, until
from tests.support.natsd import NatsServer

DATA = Path(__file__).parent / "data"
CONTACTS = Contact.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]


async def setup_lawyer(
    stack: AlertsStack,
    hook: Receiver | None = None,
    email: str | None = "lawyer@example.org",
    pgp: str | None = None,
    backups: list[dict[str, Any]] | None = None,
    client_id: str = "lawyer-1",
) -> dict[str, Any]:
    """Profile + one watchlist entry for Lev; the receiver learns its secret."""
    body: dict[str, Any] = {"backup_contacts": backups or []}
    if hook is not None:
        body["webhook"] = {"url": hook.url}
    if email is not None:
        body["email"] = {"address": email, "pgp_public_key": pgp}
    resp = await stack.call("PUT", "/v1/lawyer/profile", json=body, client_id=client_id)
    assert resp.status_code == 200, resp.text
    profile = resp.json()
    if hook is not None:
        primary = next(c for c in profile["contacts"] if c["role"] == "primary")
        hook.secret = profile["new_secrets"][primary["id"]]
    entry = await stack.call(
        "POST",
        "/v1/watchlist/entries",
        json={"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")},
        client_id=client_id,
    )
    assert entry.status_code == 201, entry.text
    return dict(profile)


async def page_lev(stack: AlertsStack, **kw: Any) -> str:
    """Publish a matching report; returns its report id."""
    event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"), **kw)
    await stack.publish(event)
    return str(event.data["report_id"])


def _body(message: Message) -> str:
    assert isinstance(message, EmailMessage) and not message.is_multipart()
    return str(message.get_content())


async def test_plain_email_is_generic_and_minimal(stack: AlertsStack) -> None:
    await setup_lawyer(stack)
    report_id = await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail["Subject"] == "Lifeline alert — action needed"
    body = _body(mail)
    # The links carry random signed tokens, which may spell "KG": look at the words only.
    words = re.sub(r"https?://\S+", "", body)
    assert "client 12" not in words and "KG" not in words and "cis_interstate" not in words
    assert f"/v1/reports/{report_id}" in body and "/v1/ack/" not in body
    assert "Priority: highest" in body


async def test_no_link_in_a_plaintext_mail_acknowledges(stack: AlertsStack) -> None:
    """Whoever reads the mail on the way (a relay, a seized mailbox) cannot silence the alert."""
    await setup_lawyer(stack)
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    raw = mail.as_string()
    assert "/v1/ack/" not in raw
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    body = _body(mail)
    # Sign-in only: the alert's address in the API and how to acknowledge once signed in.
    assert f"{stack.url}/v1/alerts/{alert['id']}" in body
    assert f"lifeline alerts ack {alert['id']}" in body
    urls = re.findall(r"https?://[^\s<>\"]+", raw)
    assert urls
    async with httpx.AsyncClient() as anyone:
        for url in urls:
            for method in ("GET", "POST"):
                # The report link names sharing, which this test does not run.
                with contextlib.suppress(httpx.ConnectError):
                    await anyone.request(method, url)
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    assert alert["status"] == "open" and alert["acknowledged"] is None


async def test_email_is_openpgp_encrypted_to_the_registered_key(stack: AlertsStack) -> None:
    public = (DATA / "lawyer-public.asc").read_text()
    await setup_lawyer(stack, pgp=public)
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert mail.get_content_type() == "multipart/encrypted"
    assert mail.get_param("protocol") == "application/pgp-encrypted"
    control, armored = mail.get_payload()  # type: ignore[misc]
    assert control.get_payload().strip() == "Version: 1"
    ciphertext = armored.get_payload().encode()
    assert b"client 12" not in ciphertext and b"BEGIN PGP MESSAGE" in ciphertext
    secret = pysequoia.Tsk.from_bytes((DATA / "lawyer-secret.asc").read_bytes())
    inner = pysequoia.decrypt(ciphertext, decryptor=secret.decryptor()).bytes.decode()
    # Encrypted, the body may say more: the label, the match and where it happened.
    assert "client 12" in inner and "cis_interstate_search" in inner and "KG, airport" in inner
    gpg = shutil.which("gpg")
    if gpg:  # interoperability with GnuPG as lawyers run it (extra check when installed)
        home = Path(stack.settings.data_dir) / "gnupg"
        home.mkdir(mode=0o700)
        try:
            subprocess.run(
                [gpg, "--homedir", home, "--batch", "--import", DATA / "lawyer-secret.asc"],
                check=True,
                capture_output=True,
            )
            out = subprocess.run(
                [gpg, "--homedir", home, "--batch", "--decrypt"],
                input=ciphertext,
                capture_output=True,
                check=True,
            )
        finally:
            # gpg starts an agent for this home that would outlive the test run.
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], check=False)
        assert b"client 12" in out.stdout


async def test_saving_a_contact_without_its_key_keeps_the_key_until_dropped(
    stack: AlertsStack,
) -> None:
    """A form that cannot show the stored key (the console) must not downgrade mail to plain."""
    public = (DATA / "lawyer-public.asc").read_text()
    mail = {"channel": "email", "address": "l@example.org", "role": "primary"}

    async def save(contact: dict[str, object]) -> bool:
        resp = await stack.call("PUT", "/v1/lawyer/profile", json={"contacts": [contact]})
        assert resp.status_code == 200, resp.text
        return bool(resp.json()["contacts"][0]["encrypted"])

    assert await save({**mail, "pgp_public_key": public})
    assert await save(mail)  # saved again without the key: still encrypted
    assert not await save({**mail, "drop_pgp_key": True})
    assert not await save(mail)


async def test_a_private_key_or_garbage_is_refused_as_pgp_key(stack: AlertsStack) -> None:
    secret = (DATA / "lawyer-secret.asc").read_text()
    public = (DATA / "lawyer-public.asc").read_text()
    for key in (secret.replace("PRIVATE", "PUBLIC"), public.replace("mDME", "mXXX")):
        resp = await stack.call(
            "PUT",
            "/v1/lawyer/profile",
            json={"email": {"address": "a@example.org", "pgp_public_key": key}},
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["fields"][0]["path"] == "pgp_public_key"


async def test_redirects_are_not_followed_and_fire_the_secondary_channel(
    stack: AlertsStack,
) -> None:
    async with receiver() as elsewhere, receiver(answer=307) as hook:
        hook.headers = {"Location": elsewhere.url}
        await setup_lawyer(stack, hook)
        await page_lev(stack)
        assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
        attempts = await until(lambda: _attempts(stack, "webhook", 2))
        assert {a.error for a in attempts} == {"redirect_not_followed"}
        assert {a.http_status for a in attempts} == {307}
        assert elsewhere.hits == [] and elsewhere.rejected == 0


async def _attempts(stack: AlertsStack, channel: str, at_least: int) -> list[Any]:
    from services.alerts.delivery.models import Delivery

    deliveries = Delivery.__table__  # type: ignore[attr-defined]
    rows = await stack.db(
        select(ATTEMPTS)
        .join(deliveries, deliveries.c.id == ATTEMPTS.c.delivery_id)
        .where(deliveries.c.channel == channel, ATTEMPTS.c.outcome != "interrupted")
        .order_by(ATTEMPTS.c.id)
    )
    return rows if len(rows) >= at_least else []


async def test_410_disables_the_endpoint_and_the_email_takes_over(stack: AlertsStack) -> None:
    async with receiver(answer=410) as hook:
        await setup_lawyer(stack, hook)
        await page_lev(stack, legal_basis="administrative")  # email only when the webhook fails
        assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
        (contact,) = await stack.db(select(CONTACTS).where(CONTACTS.c.role == "primary"))
        assert contact.disabled_reason == "gone" and contact.disabled_at is not None
        attempts = await _attempts(stack, "webhook", 1)
        assert [a.outcome for a in attempts] == ["gone"]
        profile = (await stack.call("GET", "/v1/lawyer/profile")).json()
        assert next(c for c in profile["contacts"] if c["role"] == "primary")["disabled"] is True
        # A second alert does not try the disabled endpoint at all.
        await page_lev(stack, country="KZ", legal_basis="administrative")
        assert await until(lambda: len(stack.mailbox.to("lawyer@example.org")) == 2)
        assert len(await _attempts(stack, "webhook", 1)) == 1


async def test_retry_after_is_honoured(clocked_stack: AlertsStack) -> None:
    stack, clock = clocked_stack, clocked_stack.clock
    assert isinstance(clock, FakeClock)
    answers = iter([503, 200])
    async with receiver(answer=lambda _: next(answers), headers={"Retry-After": "2"}) as hook:
        await setup_lawyer(stack, hook, email=None)
        started = clock.monotonic()
        await page_lev(stack)
        assert await until(lambda: _attempts(stack, "webhook", 1))  # the 503, recorded
        clock.advance(1.0)  # past the schedule's 0.2 s, short of the receiver's 2 s
        await asyncio.sleep(0.5)  # the worker looks every 0.1 s
        assert hook.hits == []
        clock.advance(1.0)
        assert await until(lambda: hook.hits, timeout=15)
        # The schedule says 0.2 s; the receiver asked for 2 s.
        assert clock.monotonic() - started >= 2.0
        attempts = await until(lambda: _attempts(stack, "webhook", 2))  # recorded after the 2xx
        assert [(a.outcome, a.retry_after_s) for a in attempts] == [
            ("retry", 2.0),
            ("delivered", None),
        ]


def _decrypted(mail: Message) -> str:
    """The body of a PGP/MIME mail, decrypted with the lawyer's secret key."""
    _, armored = mail.get_payload()  # type: ignore[misc]
    secret = pysequoia.Tsk.from_bytes((DATA / "lawyer-secret.asc").read_bytes())
    inner = pysequoia.decrypt(armored.get_payload().encode(), decryptor=secret.decryptor())
    message = message_from_bytes(inner.bytes, policy=default)
    assert isinstance(message, EmailMessage)
    return str(message.get_content())


async def test_an_encrypted_mail_carries_an_ack_link_that_acts_once(stack: AlertsStack) -> None:
    await setup_lawyer(stack, pgp=(DATA / "lawyer-public.asc").read_text())
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (mail,) = stack.mailbox.to("lawyer@example.org")
    assert "/v1/ack/" not in mail.as_string()  # only inside the encrypted part
    link = re.search(r"(http://\S+/v1/ack/\S+)", _decrypted(mail))
    assert link is not None
    url = link.group(1)
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200 and '<form method="post">' in page.text
        assert page.headers["cache-control"] == "no-store"
        # A scanner prefetching the link acknowledged nothing.
        assert (await stack.call("GET", "/v1/alerts?status=open")).json()["alerts"]
        tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        bad = await browser.post(tampered)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
        done = await browser.post(url, headers={"Accept": "text/html"})
        assert done.status_code == 200 and "Acknowledged" in done.text
        again = await browser.post(url)
        assert again.status_code == 409 and again.json()["code"] == "link_used"
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    assert alert["status"] == "acknowledged" and alert["acknowledged"]["via"] == "link"
    used = await stack.db(select(USED_LINKS.c.link_id))
    assert len(used) == 1


async def test_a_used_link_acts_no_more_even_on_an_alert_still_open(
    clocked_stack: AlertsStack,
) -> None:
    """A second use is refused before anything happens, not answered by the alert's state."""
    stack = clocked_stack
    profile = await setup_lawyer(stack, pgp=(DATA / "lawyer-public.asc").read_text())
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    contact = profile["contacts"][0]["id"]
    links = stack.app.state.container.links
    token = links.make(alert["id"], contact, stack.clock.time())
    assert (await stack.http.post(f"/v1/ack/{token}")).status_code == 200
    # Reopen it behind the service's back: the link still must not act a second time.
    async with transaction(stack.app.state.container.runtime.sessions) as session:
        await session.execute(
            update(ALERTS).where(ALERTS.c.id == alert["id"]).values(status="open")
        )
    again = await stack.http.post(f"/v1/ack/{token}")
    assert again.status_code == 409 and again.json()["code"] == "link_used"


async def test_links_of_the_previous_key_work_during_rotation_and_retired_keys_fail(
    clocked_stack: AlertsStack,
) -> None:
    stack = clocked_stack
    assert isinstance(stack.clock, FakeClock)
    profile = await setup_lawyer(stack, pgp=(DATA / "lawyer-public.asc").read_text())
    await page_lev(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    contact = profile["contacts"][0]["id"]
    links = stack.app.state.container.links
    retiring = links.make(alert["id"], contact, stack.clock.time())  # key 1
    links.keys.rotate(stack.clock.time())
    previous = links.make(alert["id"], contact, stack.clock.time())  # key 2
    links.keys.rotate(stack.clock.time())  # key 3 signs, key 2 verifies, key 1 is retired
    assert [k.id for k in links.keys.ring()] == [2, 3]
    retired = await stack.http.post(f"/v1/ack/{retiring}")
    assert retired.status_code == 422 and retired.json()["code"] == "invalid_input"
    assert (await stack.call("GET", "/v1/alerts?status=open")).json()["alerts"]
    assert (await stack.http.post(f"/v1/ack/{previous}")).status_code == 200
    (alert,) = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
    assert alert["status"] == "acknowledged"


async def test_expired_ack_links_are_refused(clocked_stack: AlertsStack) -> None:
    stack, clock = clocked_stack, clocked_stack.clock
    assert isinstance(clock, FakeClock)
    links = stack.app.state.container.links
    token = links.make("some-alert", "some-contact", clock.time())
    assert (await stack.http.get(f"/v1/ack/{token}")).status_code == 200  # valid for its TTL
    clock.advance(links.ttl_s + 10)
    resp = await stack.http.post(f"/v1/ack/{token}")
    assert resp.status_code == 410 and resp.json()["code"] == "link_expired"


async def test_an_interstate_search_pages_every_channel_at_once_other_cases_the_webhook_first(
    stack: AlertsStack,
) -> None:
    async with receiver() as hook:
        await setup_lawyer(stack, hook)
        await page_lev(stack, legal_basis="administrative", country="GE")
        assert await until(lambda: hook.hits)
        (first,) = hook.hits
        assert first.payload["data"]["priority"] == "high"
        await page_lev(stack)  # a CIS interstate-search request: priority highest
        assert await until(lambda: len(hook.hits) == 2)
        assert hook.hits[1].payload["data"]["priority"] == "highest"
        assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
        (mail,) = stack.mailbox.to("lawyer@example.org")
        assert hook.hits[1].payload["data"]["alert_id"] in _body(mail)
        # The webhook of the "high" alert worked: its email never went out.
        assert first.payload["data"]["alert_id"] not in _body(mail)


async def test_keys_kept_as_raw_bytes_by_an_earlier_version_still_sign_and_decrypt(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    """A data directory from before versioned key files: its keys are converted, not replaced."""
    keys = tmp_path / "alerts" / "keys"
    keys.mkdir(parents=True)
    raw = {"alerts-secrets.key": os.urandom(32)}
    for name, key in raw.items():
        (keys / name).write_bytes(key)
        (keys / name).chmod(0o600)
    # What the earlier version stored: a sealed webhook secret.
    sealed = SecretBox(raw["alerts-secrets.key"]).seal("contact-1", "whsec_old")
    async with alerts_stack_on(nats_server.url, db_url_factory("alerts"), tmp_path) as stack:
        assert stack.app.state.container.profiles.box.open("contact-1", sealed) == "whsec_old"
    for name in raw:
        assert json.loads((keys / name).read_text())["format"] == "lifeline-secret-key/1"
