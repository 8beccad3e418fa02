"""The channel registry: a new kind is accepted by the profile API, sent by the worker, and
counted in the ack's wait; an unknown kind is refused naming the field."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from libs.common.clock import FakeClock
from libs.common.errors import InvalidInput
from libs.common.web import install_error_handlers, install_request_ids
from services.alerts.container import IN_FLIGHT_MARGIN_S, in_flight_s
from services.alerts.delivery import channels
from services.alerts.delivery.channels import Channels
from services.alerts.delivery.domain import (
    FROM_ALERT,
    FROM_CONTACT,
    FROM_DELIVERY,
    ContactSpec,
    Outgoing,
    SendResult,
    context_fields,
    send_context,
)
from services.alerts.delivery.profiles.schemas import EscalationIn, ProfileIn
from services.alerts.delivery.profiles.service import Profiles
from services.alerts.delivery.secrets import SecretBox
from services.alerts.settings import AlertsSettings
from tests.support.delivery import NOW, context_for, worker_for


class Pager:
    """A pager network: numbers only, no details, no link, a slow gateway."""

    kind = "pager"
    accepts = frozenset({"secret"})
    carries_details = False
    encrypts_with_pgp_key = False
    carries_action_links = False
    timeout_s = 42.0

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.checked: list[ContactSpec] = []

    def parse_address(self, address: str) -> str:
        digits = address.replace(" ", "")
        if not digits.startswith("+") or not digits[1:].isdigit():
            raise ValueError("an international number is required")
        return digits

    def check(self, contact: ContactSpec) -> None:
        self.checked.append(contact)

    def parse_secret(self, secret: str) -> str:
        return secret

    def acts_for(self, address: str, secret: str | None) -> bool:
        return False

    def new_secret(self) -> str | None:
        return "pager-secret"

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        self.sent.append(message)
        return SendResult("delivered")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def pager() -> Iterator[Pager]:
    fake = Pager()
    channels.register("pager", lambda _settings: fake)
    try:
        yield fake
    finally:
        channels.unregister("pager")


@pytest.fixture
async def built(pager: Pager, tmp_path: Path) -> AsyncIterator[Channels]:
    """Every registered channel as the container builds them (no connection is made)."""
    sending = channels.build(AlertsSettings(data_dir=tmp_path))
    try:
        yield sending
    finally:
        await sending.aclose()


def test_the_built_in_channels_are_registered() -> None:
    assert {"email", "webhook"} <= set(channels.kinds()) and "pager" not in channels.kinds()
    with pytest.raises(ValueError, match="registered already"):
        channels.register("email", lambda _settings: Pager())


def test_a_registered_channel_is_accepted_in_every_role(pager: Pager) -> None:
    body = ProfileIn.model_validate(
        {
            "contacts": [
                {"role": "primary", "channel": "pager", "address": "+49 170 1234567"},
                {"role": "secondary", "channel": "email", "address": "me@example.org"},
            ],
            "backup_contacts": [{"channel": "pager", "address": "+49 171 7654321"}],
        }
    )
    assert [c.channel for c in body.contacts] == ["pager", "email"]
    duty = EscalationIn.model_validate(
        {
            "escalate_after_minutes": 5,
            "duty_after_minutes": 10,
            "repeat_every_minutes": 5,
            "max_repeats": 1,
            "duty_contacts": [{"channel": "pager", "address": "+49 172 1111111"}],
        }
    )
    assert duty.duty_contacts[0].channel == "pager"


def test_an_unknown_channel_is_refused_naming_the_field() -> None:
    for body, loc in (
        ({"contacts": [{"role": "primary", "channel": "pager", "address": "+491"}]}, "contacts"),
        (
            {
                "email": {"address": "me@example.org"},
                "backup_contacts": [{"channel": "pager", "address": "+491"}],
            },
            "backup_contacts",
        ),
    ):
        with pytest.raises(ValidationError) as caught:
            ProfileIn.model_validate(body)
        (error,) = caught.value.errors()
        assert error["loc"] == (loc, 0, "channel")


async def test_the_api_answers_an_unknown_channel_with_a_machine_readable_422() -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_request_ids(app)

    @app.put("/profile")
    async def put(body: ProfileIn) -> dict[str, Any]:
        return {}

    body = {"contacts": [{"role": "primary", "channel": "carrier-pigeon", "address": "loft 3"}]}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.put("/profile", json=body)
    assert resp.status_code == 422
    answer = resp.json()
    assert answer["code"] == "invalid_input"
    assert [f["path"] for f in answer["fields"]] == ["contacts.0.channel"]
    assert "carrier-pigeon" not in resp.text  # the rejected input is never echoed


def _profiles(sending: Channels) -> Profiles:
    box = SecretBox(os.urandom(32))
    return Profiles(sessions=None, box=box, channels=sending, clock=FakeClock(NOW))  # type: ignore[arg-type]


async def test_the_profile_checks_a_registered_channel_through_it(
    pager: Pager, built: Channels
) -> None:
    body = ProfileIn.model_validate(
        {
            "contacts": [
                {"role": "primary", "channel": "pager", "address": "+49 170 1234567"},
                {"role": "backup", "channel": "pager", "address": "+49 171", "rotate_secret": True},
            ]
        }
    )
    wanted = _profiles(built).wanted(body)
    assert [(w.role, w.channel, w.address, w.rotate) for w in wanted] == [
        ("primary", "pager", "+491701234567", False),
        ("backup", "pager", "+49171", True),
    ]
    assert pager.checked == wanted


ARMOR = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----"


@pytest.mark.parametrize(
    ("contact", "path"),
    [
        ({"channel": "pager", "address": "call me"}, "contacts.0.address"),
        ({"channel": "pager", "address": "+491", "pgp_public_key": ARMOR}, "contacts.0"),
        ({"channel": "email", "address": "me@example.org", "rotate_secret": True}, "contacts.0"),
    ],
)
async def test_a_contact_the_channel_cannot_take_is_refused(
    pager: Pager, built: Channels, contact: dict[str, Any], path: str
) -> None:
    body = ProfileIn.model_validate({"contacts": [{"role": "primary", **contact}]})
    with pytest.raises(InvalidInput) as caught:
        _profiles(built).wanted(body)
    assert [f["path"] for f in caught.value.fields] == [path]


async def test_the_worker_sends_through_the_registered_channel_what_it_may_carry(
    pager: Pager, built: Channels
) -> None:
    box = SecretBox(os.urandom(32))
    ctx = context_for("pager", secret=box.seal("c-1", "pager-secret"))
    result = await worker_for(built, box).send(ctx, NOW)
    assert result.outcome == "delivered"
    (message,) = pager.sent
    assert (message.delivery_id, message.address, message.secret) == (
        "d-1",
        "+491701234567",
        "pager-secret",
    )
    view = message.view
    assert (view.alert_id, view.priority, view.report_url) == (
        "a-1",
        "highest",
        "https://sharing.example/v1/reports/r-1",
    )
    # Neither details nor the ack link travel on a channel that may not carry them.
    assert (view.label, view.country, view.legal_basis, view.reason, view.ack_url) == ("",) * 5


async def test_a_kind_this_process_does_not_have_is_retried(built: Channels) -> None:
    result = await worker_for(built, SecretBox(os.urandom(32))).send(context_for("fax"), NOW)
    assert (result.outcome, result.error) == ("retry", "unknown_channel")


async def test_the_ack_waits_for_the_slowest_registered_channel(
    pager: Pager, tmp_path: Path
) -> None:
    for webhook_s, smtp_s, built_in in ((3.0, 30.0, 30.0), (3.0, 1.0, 3 * 2.0 + 3.0)):
        # The built-in ones: SMTP's timeout, or a webhook's (an ntfy server's) three failed
        # connects and its read; the operator's own endpoints answer sooner here.
        settings = AlertsSettings(
            data_dir=tmp_path,
            webhook_timeout_s=webhook_s,
            ntfy_timeout_s=webhook_s,
            smtp_timeout_s=smtp_s,
            signal_timeout_s=1.0,
            telegram_timeout_s=1.0,
            sms_timeout_s=1.0,
        )
        sending = channels.build(settings)
        try:
            assert in_flight_s(sending) == 42.0 + IN_FLIGHT_MARGIN_S
            others = Channels({k: c for k, c in sending.by_kind.items() if k != "pager"})
            assert in_flight_s(others) == built_in + IN_FLIGHT_MARGIN_S
        finally:
            await sending.aclose()


def test_a_send_context_is_made_from_exactly_the_columns_the_repository_selects() -> None:
    mapped = {*FROM_DELIVERY, *FROM_ALERT, *FROM_CONTACT, "label", "language"}
    assert mapped == context_fields()
    delivery, alert = (
        {c: None for c in FROM_DELIVERY.values()},
        {c: None for c in FROM_ALERT.values()},
    )
    removed = send_context(delivery, alert, None, "", None)
    assert (removed.address, removed.role, removed.secret) == (None, None, None)
