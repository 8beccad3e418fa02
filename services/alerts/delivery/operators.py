"""Operators' notices: alarms a service raises (bulk OPRF use) mailed to the operators.

An alarm is an event (`lifeline.system.alarm.v1`) on a durable consumer, so the consumer's
redelivery is the retry: a mail server that is down or answers 4xx gets the alarm again later,
never loses it; a refused address (5xx) is logged and given up. The mail holds ids and counts
only, and is OpenPGP-encrypted when an operator key is configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from libs.common.clock import Clock
from libs.common.consumer import Handler
from libs.common.contracts import SystemAlarm, read_event
from libs.common.events import Envelope
from services.alerts.delivery.channels.email import Mailer

log = logging.getLogger(__name__)
SUBJECT = "Lifeline operators — alarm"
_WHAT = {
    "oprf_bulk_use": (
        "Bulk use of identity tokenisation: a {scope} has used {used} of its {limit} "
        "evaluations for today. A caseload needs tens a day; this many looks like a list "
        "being tested against the network (docs/identity.md, quotas)."
    ),
}


class OperatorMailUndelivered(ConnectionError):
    """The mail server could not take the notice now: the event is redelivered later."""


def alarm_text(alarm: SystemAlarm) -> str:
    """The body: what happened, to which ids, and where to look; never content."""
    what = _WHAT.get(alarm.kind, "Alarm {kind} on a {scope}.")
    lines = [
        what.format(**alarm.model_dump()),
        "",
        f"{alarm.scope}: {alarm.subject}",
        f"partner:  {alarm.partner_id}",
        f"raised:   {alarm.raised_at.isoformat()}",
        "",
        "The audit log has the entry (lifeline admin audit list); a seizure response or the",
        "client's revocation stops it (docs/auth.md).",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class OperatorNotices:
    """Mails each alarm to every configured operator address."""

    mailer: Mailer | None
    addresses: tuple[str, ...]
    pgp_key: str | None
    clock: Clock

    async def on_alarm(self, event: Envelope, alarm: SystemAlarm) -> int:
        """Mail one alarm; returns how many addresses took it."""
        if not self.addresses or self.mailer is None:
            log.warning(
                "operator alarm not mailed: no operator address", extra={"reason": alarm.kind}
            )
            return 0
        sent = 0
        for n, address in enumerate(self.addresses):
            result = await self.mailer.send(
                address,
                SUBJECT,
                alarm_text(alarm),
                f"{event.id}.{n}",  # constant across redeliveries: duplicates can be dropped
                self.pgp_key,
                now=self.clock.now(),
            )
            if result.outcome == "retry":
                raise OperatorMailUndelivered(result.error or "smtp")
            if result.outcome == "delivered":
                sent += 1
            else:
                log.error("operator alarm refused", extra={"reason": result.error})
        return sent


def alarm_handler(notices: OperatorNotices) -> Handler:
    """Mail the operators about an alarm."""

    async def handle(event: Envelope) -> None:
        await notices.on_alarm(event, read_event(event, SystemAlarm))

    return handle
