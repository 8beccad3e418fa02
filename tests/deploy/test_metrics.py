"""Each part's /metrics listener in the deploy files: scraped by Prometheus, never public."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.deploy import (
    PROCESSES,
    compose_env,
    default_port,
    deployment_container,
    k8s_env,
    k8s_kind,
    prefix_of,
    settings_from_env,
)


def _metrics_port(env: dict[str, str], service: str) -> int:
    return int(env[f"{prefix_of(service)}METRICS_PORT"])


@pytest.mark.parametrize("service", PROCESSES)
def test_compose_serves_metrics_on_its_own_port_and_never_publishes_it(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = compose["services"][service]
    env = compose_env(svc)
    port = _metrics_port(env, service)
    assert port != default_port(service)
    settings = settings_from_env(monkeypatch, service, env)
    # On the project network, where a Prometheus container reaches it by the service's name.
    assert (settings.metrics_host, settings.metrics_port) == ("0.0.0.0", port)
    published = {int(p["target"]) if isinstance(p, dict) else p for p in svc.get("ports", [])}
    assert port not in published and str(port) not in {str(p) for p in published}
    assert "expose" not in svc


def _policies_of(k8s: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The ingress NetworkPolicies that select pods with `labels`."""
    return [
        p
        for p in k8s_kind(k8s, "NetworkPolicy").values()
        if "Ingress" in p["spec"].get("policyTypes", [])
        and p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
    ]


def _opens(rule: dict[str, Any], name: str, number: int) -> bool:
    """Whether an ingress rule lets traffic reach the port `name`/`number`."""
    ports = rule.get("ports")
    return not ports or any(p.get("port") in (name, number) for p in ports)


@pytest.mark.parametrize("service", PROCESSES)
def test_k8s_metrics_port_is_named_kept_off_the_service_and_open_to_prometheus_only(
    k8s: list[dict[str, Any]], service: str
) -> None:
    dep = k8s_kind(k8s, "Deployment")[service]
    env = k8s_env(k8s, dep)
    port = _metrics_port(env, service)
    assert env[f"{prefix_of(service)}METRICS_HOST"] == "0.0.0.0"
    ports = {p["name"]: p["containerPort"] for p in deployment_container(dep)["ports"]}
    assert ports["metrics"] == port
    # The Service (what an Ingress or another pod reaches by name) carries the API port only.
    svc = k8s_kind(k8s, "Service")[service]
    assert all(p["targetPort"] in ("http", ports["http"]) for p in svc["spec"]["ports"])

    labels = dep["spec"]["template"]["metadata"]["labels"]
    policies = _policies_of(k8s, labels)
    assert policies, f"no ingress NetworkPolicy selects {service}'s pods"
    rules = [r for p in policies for r in p["spec"].get("ingress", [])]
    opening = [r for r in rules if _opens(r, "metrics", port)]
    assert opening, "nothing may scrape the metrics port"
    for rule in opening:
        # Only named peers: a namespace and a pod label both, never an address block or anyone.
        assert rule.get("from"), f"{service}: a rule opens the metrics port to every source"
        for peer in rule["from"]:
            assert set(peer) == {"namespaceSelector", "podSelector"}, peer
            assert peer["podSelector"]["matchLabels"] and peer["namespaceSelector"]["matchLabels"]
    # The API port stays reachable as before the policy.
    assert any(_opens(r, "http", ports["http"]) and not r.get("from") for r in rules)


def test_the_console_cannot_reach_a_metrics_port(k8s: list[dict[str, Any]]) -> None:
    deployments = k8s_kind(k8s, "Deployment")
    metrics = {_metrics_port(k8s_env(k8s, deployments[s]), s) for s in PROCESSES} | {"metrics"}
    egress = k8s_kind(k8s, "NetworkPolicy")["console-egress"]["spec"]["egress"]
    for rule in egress:
        assert rule.get("ports"), "the console's egress names its ports"
        assert not {p["port"] for p in rule["ports"]} & metrics
