"""`/metrics` of every service, on its own listener: a real report that pages a lawyer moves the
figures an operator watches, and no label carries an id, a token or a name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from libs.common.bus import ROLES
from libs.common.subjects import stream_for
from libs.sdk.identity import tokenise_identities
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import Client, bootstrap_admin, register_client
from tests.support.natsd import NatsServer, free_port
from tests.support.receivers import Receiver, receiver, until
from tests.support.reports import report_body
from tests.support.servers import serve_app, service_settings

SERVICES = ("intake", "sharing", "alerts")
LAWYER_SCOPES = ("watchlist:manage", "alerts:read", "alerts:ack")
CLIENT_NAME, CLIENT_DOB = "Лев Скорякин", "1999-03-14"
REPORTED_NAME, REPORTED_DOB = "SKORIAKIN LEV", "14.03.1999"

Sample = tuple[str, dict[str, str], float]


@dataclass
class Network:
    """The three services on real ports, their metrics listeners, and an HTTP client."""

    http: httpx.AsyncClient
    urls: dict[str, str]
    metrics: dict[str, str]
    admin: Client

    async def scrape(self, service: str) -> list[Sample]:
        """Every sample `service` exposes now, parsed as Prometheus parses it."""
        resp = await self.http.get(self.metrics[service])
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/plain")
        return [
            (s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(resp.text)
            for s in family.samples
        ]

    async def as_client(self, client: Client, service: str) -> httpx.AsyncClient:
        """A client of `service` that sends `client`'s token."""
        headers = await client.headers(self.http)
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=15)


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


@asynccontextmanager
async def network(nats: NatsServer, db_url_factory: Any, tmp_path: Path) -> AsyncIterator[Network]:
    """Sharing, intake and alerts on SQLite and the test's nats-server, each with metrics."""
    ports = {name: free_port() for name in SERVICES}
    mk = db_url_factory
    s_set = service_settings(
        SharingSettings, tmp_path, nats.url, mk("sharing"), metrics_port=ports["sharing"]
    )
    # Intake trusts only the sealing key it is told of, as a deployment pins it.
    hpke = HpkeKeyStore.open(s_set.resolved_hpke_key_file())
    fingerprint = hpke.active().public_view()["fingerprint"]
    async with (
        httpx.AsyncClient(timeout=15) as http,
        serve_app(sharing_app, s_set) as (sharing, _),
    ):
        a_set = service_settings(
            AlertsSettings, tmp_path, nats.url, mk("alerts"), sharing_url=sharing,
            webhook_allow_private=True, metrics_port=ports["alerts"],
        )  # fmt: skip
        i_set = service_settings(
            IntakeSettings, tmp_path, nats.url, mk("intake"), sharing_url=sharing,
            sharing_hpke_fingerprints=fingerprint, metrics_port=ports["intake"],
        )  # fmt: skip
        async with (
            serve_app(alerts_app, a_set) as (alerts, _),
            serve_app(intake_app, i_set) as (intake, _),
        ):
            admin = await bootstrap_admin(http, sharing, tmp_path)
            yield Network(
                http,
                {"intake": intake, "sharing": sharing, "alerts": alerts},
                {n: f"http://127.0.0.1:{p}/metrics" for n, p in ports.items()},
                admin,
            )


async def _tokens(net: Network, client: Client, name: str, dob: str) -> list[dict[str, Any]]:
    """The identity's tokens, made as a client makes them: blinded, evaluated by sharing."""
    async with await net.as_client(client, "sharing") as sharing:
        (tokens,) = await tokenise_identities(sharing, [(name, dob)])
    return [t.model_dump(mode="json") for t in tokens]


async def _lawyer_watching(net: Network, hook: Receiver) -> Client:
    """A lawyer with a webhook who watches the client."""
    lawyer = await register_client(net.http, net.admin, LAWYER_SCOPES, partner_name="Bar")
    async with await net.as_client(lawyer, "alerts") as alerts:
        resp = await alerts.put("/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
        assert resp.status_code == 200, resp.text
        hook.secret = next(iter(resp.json()["new_secrets"].values()))
        tokens = await _tokens(net, lawyer, CLIENT_NAME, CLIENT_DOB)
        entry = await alerts.post("/v1/watchlist/entries", json={"label": "c-1", "tokens": tokens})
        assert entry.status_code == 201, entry.text
    return lawyer


async def _page_and_ack(net: Network, hook: Receiver) -> dict[str, Any]:
    """A partner reports the client detained; the lawyer is paged and acknowledges.

    Returns what no label may carry: the report id, the partner id, the tokens.
    """
    lawyer = await _lawyer_watching(net, hook)
    ngo = await register_client(net.http, net.admin, ["reports:submit"], partner_name="NGO")
    tokens = await _tokens(net, ngo, REPORTED_NAME, REPORTED_DOB)
    body = report_body(subject={"tokens": tokens, "sex": "male"})
    async with await net.as_client(ngo, "intake") as intake:
        resp = await intake.post("/v1/reports", json=body)
        assert resp.status_code == 202, resp.text
        report_id = resp.json()["report_id"]
        # A path with an id in it: the label must be the route's template.
        assert (await intake.get(f"/v1/reports/{report_id}/receipt")).status_code == 200
    assert await until(lambda: hook.hits, timeout=15), "no page arrived"
    alert_id = hook.hits[0].payload["data"]["alert_id"]
    async with await net.as_client(lawyer, "alerts") as alerts:
        ack = await alerts.post(f"/v1/alerts/{alert_id}/ack")
        assert ack.status_code == 200, ack.text
    return {
        "report_id": report_id,
        "alert_id": alert_id,
        "client_report_id": body["client_report_id"],
        "partner_id": ngo.partner_id,
        "ngo_client": ngo.client_id,
        "lawyer_client": lawyer.client_id,
        "tokens": [t["value"] for t in tokens],
    }


async def _settled(net: Network) -> dict[str, list[Sample]]:
    """Scrapes once the outboxes are empty and no consumer has anything pending."""

    async def quiet() -> dict[str, list[Sample]] | None:
        scraped = {name: await net.scrape(name) for name in SERVICES}
        busy = any(
            value(samples, "lifeline_outbox_waiting") or value(samples, "lifeline_consumer_pending")
            for samples in scraped.values()
        )
        return None if busy else scraped

    scraped: dict[str, list[Sample]] | None = None

    async def check() -> bool:
        nonlocal scraped
        scraped = await quiet()
        return scraped is not None

    assert await until(check, timeout=15), "outboxes or consumers never drained"
    assert scraped is not None
    return scraped


async def test_a_page_moves_every_services_figures(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with network(nats_server, db_url_factory, tmp_path) as net, receiver() as hook:
        before = {name: await net.scrape(name) for name in SERVICES}
        await _page_and_ack(net, hook)
        after = await _settled(net)

    def moved(service: str, name: str, **labels: str) -> float:
        return value(after[service], name, **labels) - value(before[service], name, **labels)

    received = "lifeline.report.received.v1"
    assert moved("intake", "lifeline_reports_submitted_total", outcome="accepted") == 1
    assert moved("intake", "lifeline_reports_submitted_total", outcome="duplicate") == 0
    assert moved("intake", "lifeline_events_published_total", subject=received) == 1
    posts = dict(method="POST", route="/v1/reports", status="202")
    assert moved("intake", "lifeline_http_request_duration_seconds_count", **posts) == 1
    for service, durable in (
        ("sharing", "sharing-vault"),
        ("alerts", "alerts-reports"),
        ("intake", "intake-receipts"),
    ):
        stream = stream_for(ROLES[service].durable(durable).subject).name
        consumed = dict(stream=stream, consumer=durable, outcome="handled")
        handled = moved(service, "lifeline_events_consumed_total", **consumed)
        assert handled == 1, (service, durable, handled)
        assert moved(service, "lifeline_events_consumed_total", outcome="dead_lettered") == 0
    assert moved("sharing", "lifeline_oprf_evaluations_total", outcome="evaluated") == 2
    assert moved("sharing", "lifeline_oprf_elements_evaluated_total") > 2
    assert moved("alerts", "lifeline_deliveries_total", channel="webhook", outcome="delivered") == 1
    assert moved("alerts", "lifeline_time_to_first_page_seconds_count") == 1
    assert 0 < moved("alerts", "lifeline_time_to_first_page_seconds_sum") < 15
    assert moved("alerts", "lifeline_time_to_ack_seconds_count", via="api") == 1
    for service in SERVICES:
        assert value(after[service], "lifeline_sealed") == 0
        assert value(after[service], "lifeline_outbox_oldest_age_seconds") == 0
        assert value(after[service], "lifeline_metrics_probe_failures_total") == 0
        assert any(n == "lifeline_consumer_pending" for n, _, _ in after[service]), service


async def test_no_label_carries_an_id_a_token_or_a_name(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with network(nats_server, db_url_factory, tmp_path) as net, receiver() as hook:
        secrets = await _page_and_ack(net, hook)
        scraped = await _settled(net)
        texts = {name: (await net.http.get(net.metrics[name])).text for name in SERVICES}
    forbidden = [
        *(secrets[k] for k in ("report_id", "alert_id", "client_report_id", "partner_id")),
        *(secrets[k] for k in ("ngo_client", "lawyer_client")),
        *secrets["tokens"],
        "SKORIAKIN", "Скорякин", "skoriakin", "14.03.1999", "1999-03-14",
    ]  # fmt: skip
    for service, samples in scraped.items():
        labels = {v for _, lab, _ in samples for v in lab.values()}
        leaked = [f for f in forbidden if any(f in v for v in labels)]
        assert not leaked, (service, leaked)
        # Not even outside the labels: the exposition names no id at all.
        assert not [f for f in forbidden if f in texts[service]], service
    routes = {lab["route"] for _, lab, _ in scraped["intake"] if "route" in lab}
    assert "/v1/reports/{report_id}/receipt" in routes


async def test_the_public_port_does_not_answer_metrics(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with network(nats_server, db_url_factory, tmp_path) as net:
        for service in SERVICES:
            public = await net.http.get(f"{net.urls[service]}/metrics")
            assert public.status_code == 404, (service, public.text)
            assert "lifeline_" not in public.text
            # The listener answers /metrics only.
            other = net.metrics[service].removesuffix("/metrics") + "/healthz"
            assert (await net.http.get(other)).status_code == 404
