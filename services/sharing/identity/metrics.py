"""The identity context's instruments: OPRF evaluations."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from libs.common.metrics import Metrics

OUTCOMES = ("evaluated", "refused")


@dataclass(frozen=True)
class IdentityMetrics:
    """OPRF requests by outcome (refused: malformed elements, over quota, unknown key version)
    and the blinded elements evaluated (what the quota charges)."""

    requests: Counter
    elements: Counter

    @classmethod
    def on(cls, metrics: Metrics) -> IdentityMetrics:
        """Register the instruments in the service's registry."""
        requests = Counter(
            "lifeline_oprf_evaluations",
            "OPRF evaluation requests, by outcome (evaluated, refused).",
            ["outcome"],
            registry=metrics.registry,
        )
        for outcome in OUTCOMES:
            requests.labels(outcome)
        elements = Counter(
            "lifeline_oprf_elements_evaluated",
            "Blinded elements evaluated with the PRF key.",
            registry=metrics.registry,
        )
        return cls(requests, elements)

    @classmethod
    def detached(cls) -> IdentityMetrics:
        """Instruments in a registry nobody scrapes (an evaluator built without a service)."""
        return cls.on(Metrics("sharing"))

    def evaluated(self, count: int) -> None:
        """Count one answered request of `count` elements."""
        self.requests.labels("evaluated").inc()
        self.elements.inc(count)

    def refused(self) -> None:
        """Count one refused request."""
        self.requests.labels("refused").inc()
