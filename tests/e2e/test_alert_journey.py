"""The rapid-response journey on the network as `lifeline up` starts it, with the CLI only.

A lawyer registers a webhook and an email and watches "Лев Скорякин, 1999-03-14" (the bar's
administrator has set its escalation timing and duty desk); an NGO
reports a detention in Bishkek on a CIS interstate-search request for "SKORIAKIN LEV,
14.03.1999" (and one about someone else); the lawyer's receiver gets a webhook verified with
`standardwebhooks`, a real SMTP server an email; the lawyer acks and no escalation follows.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from tests.support.auth import role_for
from tests.support.cli import keyed_client
from tests.support.cli import run_cli as _cli
from tests.support.network import lifeline_up
from tests.support.receivers import receiver, smtp_server, until

MINUTE = 3.0  # seconds: the escalation settings below are in minutes
AFTER, DUTY_AFTER = 2, 3  # N and M of the lawyer's organisation
LAWYER_SCOPES = ("watchlist:manage", "alerts:read", "alerts:ack")
BAR_ADMIN_SCOPES = ("escalation:manage",)  # a partner administrator: the escalation


async def _client(
    env: dict[str, str], admin: list[str], partner: str, name: str, scopes: tuple[str, ...]
) -> str:
    """A client of the narrowest role for `scopes`, its key in the CLI's config directory."""
    role = role_for(scopes)
    return await keyed_client(env, admin, partner, name, scopes, role, Path(env["XDG_CONFIG_HOME"]))


async def test_a_detention_on_an_interstate_search_reaches_the_lawyer_who_acks(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    admin = ["--profile", str(tmp_path / "admin.json")]
    lawyer = ["--profile", str(tmp_path / "lawyer.json")]
    bar_admin = ["--profile", str(tmp_path / "bar-admin.json")]
    ngo = ["--profile", str(tmp_path / "ngo.json")]
    async with receiver() as hook, smtp_server() as (mailbox, smtp_port):
        settings = {
            "LIFELINE_ALERTS_SMTP_HOST": "127.0.0.1",
            "LIFELINE_ALERTS_SMTP_PORT": str(smtp_port),
            "LIFELINE_ALERTS_SMTP_TLS": "none",  # the test server speaks plaintext
            "LIFELINE_ALERTS_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
            "LIFELINE_ALERTS_ESCALATION_MINUTE_S": str(MINUTE),
            "LIFELINE_ALERTS_ESCALATION_POLL_S": "0.1",
        }
        with lifeline_up(tmp_path, env=settings) as net:
            urls = net.urls
            await _cli(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
                       str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
            bar = await _cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
            kg = await _cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
            for profile, client_id in (
                (lawyer, await _client(env, admin, bar["id"], "lawyer app", LAWYER_SCOPES)),
                (bar_admin, await _client(env, admin, bar["id"], "bar admin", BAR_ADMIN_SCOPES)),
                (ngo, await _client(env, admin, kg["id"], "case tool", ("reports:submit",))),
            ):
                key = Path(env["XDG_CONFIG_HOME"]) / f"{client_id}.pem"
                await _cli(env, "login", "--sharing-url", urls["sharing"], "--intake-url",
                           urls["intake"], "--alerts-url", urls["alerts"], "--client-id",
                           client_id, "--key", str(key), *profile)  # fmt: skip

            # The bar's lawyers may see the alert details of detention reports from partners
            # (without a policy an alert only says that a partner holds a report: test_releases).
            policy = tmp_path / "bar-lawyers.json"
            policy.write_text(json.dumps({"partner": bar["id"], "role": "lawyer", "grants": [{
                "id": "alerts", "from": ["*"], "incident_types": ["detention"],
                "countries": ["*"], "legal_bases": ["*"], "max_tlp": "AMBER",
                "fields": ["incident_type", "legal_basis", "occurred_at", "place.country",
                           "place.facility_kind", "status"]}]}))  # fmt: skip
            await _cli(env, "admin", "policy", "set", str(policy), *admin)

            # The bar's administrator sets the escalation; the lawyer a webhook and an email,
            # and the client to watch.
            contacts = await _cli(env, "alerts", "contacts", "set", "--webhook-url", hook.url,
                                  "--email", "lawyer@example.org", *lawyer)  # fmt: skip
            primary = next(c for c in contacts["contacts"] if c["role"] == "primary")
            hook.secret = contacts["new_secrets"][primary["id"]]
            await _cli(env, "alerts", "escalation", "set", "--after", str(AFTER), "--duty-after",
                       str(DUTY_AFTER), "--duty-email", "Duty <duty@bar.example>", *bar_admin)  # fmt: skip
            await _cli(env, "watchlist", "add", "--name", "Лев Скорякин", "--dob", "1999-03-14",
                       "--label", "client 12", *lawyer)  # fmt: skip

            # The NGO fills in the template (a detention in Bishkek on an interstate search for
            # "SKORIAKIN LEV, 14.03.1999"), and reports someone else first.
            (detention,) = await _cli(env, "report", "template", json_flag=False)
            assert detention["person"] == {"name": "SKORIAKIN LEV", "dob": "14.03.1999",
                                           "sex": "male"}  # fmt: skip
            other = {**detention, "client_report_id": "kg-2026-0041",
                     "person": {"name": "Ivan Petrov", "dob": "1980-01-01"}}  # fmt: skip
            reports = tmp_path / "reports.json"
            reports.write_text(json.dumps([other, detention]))
            submitted = await _cli(env, "report", "submit", str(reports), "--concurrency", "1",
                                   *ngo)  # fmt: skip
            assert submitted["accepted"] == 2, submitted

            assert await until(lambda: hook.hits, timeout=20), "no verified webhook arrived"
            alerted_at = time.monotonic()
            (hit,) = hook.hits
            data = hit.payload["data"]
            assert hit.payload["type"] == "alert.created"
            assert (data["label"], data["match"]["strength"], data["priority"]) == (
                "client 12",
                "strong",
                "highest",
            )
            assert (data["incident_type"], data["legal_basis"], data["country"]) == (
                "detention",
                "cis_interstate_search",
                "KG",
            )
            # The lawyer acks at once, well before N, so that what follows can prove the timers stop.
            acked = await _cli(env, "alerts", "ack", data["alert_id"], *lawyer)
            assert acked["already"] is False
            assert time.monotonic() - alerted_at < AFTER * MINUTE, "acked too late to prove it"
            assert "skoriakin" not in json.dumps(hit.payload).lower()
            assert await until(lambda: mailbox.to("lawyer@example.org"), timeout=20)
            (mail,) = mailbox.to("lawyer@example.org")
            assert data["alert_id"] in mail.get_body().get_content()  # type: ignore[union-attr]
            assert "SKORIAKIN" not in mail.as_string().upper()

            # Past N and M: nobody is paged again.
            await asyncio.sleep(alerted_at + (DUTY_AFTER + 1) * MINUTE - time.monotonic())
            assert [h.payload["type"] for h in hook.hits] == ["alert.created"]
            assert len(mailbox.messages) == 1  # the lawyer's first page; the duty desk: nothing
            # Only the watched client alerted: the other report produced nothing.
            (alert,) = await _cli(env, "alerts", "list", *lawyer)
            assert (alert["id"], alert["status"]) == (data["alert_id"], "acknowledged")

            # Two days later a court orders the extradition: the NGO follows its report up (no
            # name again). The same lawyer hears it as an update of the same alert, which is
            # open again since the news is worse; they resolve it, and escalation stops.
            (original,) = [r["report_id"] for r in submitted["reports"]
                           if r["client_report_id"] == detention["client_report_id"]]  # fmt: skip
            follow_up = {k: v for k, v in detention.items() if k not in ("person", "follows")}
            follow_up |= {"client_report_id": "kg-2026-0042-decision", "status":
                          "extradition_decided", "narrative": "The court ordered extradition."}  # fmt: skip
            decision = tmp_path / "decision.json"
            decision.write_text(json.dumps([follow_up]))
            followed = await _cli(env, "report", "submit", str(decision), "--follows", original,
                                  *ngo)  # fmt: skip
            assert followed["accepted"] == 1, followed
            assert await until(lambda: hook.alerts("alert.updated"), timeout=20)
            (update,) = hook.alerts("alert.updated")
            assert update.payload["data"]["alert_id"] == data["alert_id"]
            assert update.payload["data"]["update"]["status"] == "extradition_decided"
            assert await until(lambda: len(mailbox.to("lawyer@example.org")) == 2, timeout=20)
            told = mailbox.to("lawyer@example.org")[1].get_body().get_content()  # type: ignore[union-attr]
            assert f"Update on alert {data['alert_id']}" in told
            assert "extradition" not in told.lower()  # a plain mail carries no status
            (alert,) = await _cli(env, "alerts", "list", *lawyer)
            assert (alert["id"], alert["status"]) == (data["alert_id"], "open")
            resolved = await _cli(env, "alerts", "resolve", data["alert_id"], "--outcome",
                                  "held_pending_extradition", *lawyer)  # fmt: skip
            assert resolved["status"] == "resolved"
            pages = len(hook.alerts("alert.escalated"))
            await asyncio.sleep((DUTY_AFTER + 1) * MINUTE)
            assert len(hook.alerts("alert.escalated")) == pages  # resolved: escalation stopped
            assert [a["id"] for a in await _cli(env, "alerts", "list", *lawyer)] == [alert["id"]]
