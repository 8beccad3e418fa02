"""Settings every service shares: the consumer's redelivery delays."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.alerts.settings import AlertsSettings
from services.intake.settings import IntakeSettings


def test_the_consumer_retries_after_the_usual_delays_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IntakeSettings().consumer_retry_delays_s == (0.2, 1.0, 2.0, 5.0, 10.0)
    monkeypatch.setenv("LIFELINE_ALERTS_CONSUMER_RETRY_DELAYS_S", "[0.1, 0.5]")
    assert AlertsSettings().consumer_retry_delays_s == (0.1, 0.5)


@pytest.mark.parametrize("delays", [(), (1.0, -0.5)])
def test_no_delays_or_a_negative_one_are_refused(delays: tuple[float, ...]) -> None:
    with pytest.raises(ValidationError):
        IntakeSettings(consumer_retry_delays_s=delays)
