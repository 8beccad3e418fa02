"""Intake's own instruments: what became of each submission."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from libs.common.metrics import Metrics

OUTCOMES = ("accepted", "duplicate", "refused")


@dataclass(frozen=True)
class IntakeMetrics:
    """`lifeline_reports_submitted_total{outcome}`: accepted, a duplicate (a retry of the same
    report), or refused after validation (rate limit, a reused client report id, an unknown
    original); an invalid body is a 4xx in the HTTP histogram."""

    submitted: Counter

    @classmethod
    def on(cls, metrics: Metrics) -> IntakeMetrics:
        """Register intake's instruments in the service's registry."""
        submitted = Counter(
            "lifeline_reports_submitted",
            "Reports submitted, by outcome (accepted, duplicate, refused).",
            ["outcome"],
            registry=metrics.registry,
        )
        for outcome in OUTCOMES:
            submitted.labels(outcome)  # every outcome from 0, so rate() sees the first one
        return cls(submitted)

    @classmethod
    def detached(cls) -> IntakeMetrics:
        """Instruments in a registry nobody scrapes (a use case built without a service)."""
        return cls.on(Metrics("intake"))

    def outcome(self, outcome: str) -> None:
        """Count one submission."""
        self.submitted.labels(outcome).inc()
