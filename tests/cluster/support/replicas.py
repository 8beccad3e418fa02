"""What one replica writes, the other must read: an ack link made by one acts on the other; the
webhook saved through one is the other's too (its secret signs the deliveries of both: the
receiver rejects any other, and each replica is the only one up while the other restarts)."""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import default

import pysequoia

from tests.cluster.support.load import EMAIL, PGP, Load
from tests.support.receivers import Mailbox


def _link(mail: Message) -> str | None:
    """The ack link inside a PGP/MIME mail, decrypted with the lawyer's secret key."""
    _, armored = mail.get_payload()  # type: ignore[misc]
    secret = pysequoia.Tsk.from_bytes((PGP / "lawyer-secret.asc").read_bytes())
    inner = pysequoia.decrypt(armored.get_payload().encode(), decryptor=secret.decryptor())
    message = BytesParser(policy=default).parsebytes(inner.bytes)
    assert isinstance(message, EmailMessage)
    found = re.search(r"http://\S+/v1/ack/(\S+)", str(message.get_content()))
    return found.group(1) if found else None


async def cross_replica_checks(load: Load, mailbox: Mailbox) -> list[str]:
    """Problems found (empty: none)."""
    problems: list[str] = []
    http = await load.lawyer_http()
    first, second = load.alerts_urls
    tokens = [t for t in (_link(m) for m in mailbox.to(EMAIL)[:2]) if t]
    if len(tokens) < 2:
        return ["fewer than two encrypted mails with an ack link arrived"]
    for n, token in enumerate(tokens):
        # Both replicas verify the link (GET acts on nothing); one acks, the other refuses
        # the used link: the ring of link keys and the used-link table are shared.
        for base in (first, second):
            if (await http.get(f"{base}/v1/ack/{token}")).status_code != 200:
                problems.append(f"link {n} not valid on {base}")
        acker, other = (first, second) if n % 2 == 0 else (second, first)
        acked = await http.post(f"{acker}/v1/ack/{token}")
        if acked.status_code != 200 or "Acknowledged" not in acked.text:
            problems.append(f"link {n} did not ack on {acker}: {acked.status_code}")
        if (await http.post(f"{other}/v1/ack/{token}")).status_code != 409:
            problems.append(f"link {n} acked twice (again on {other})")
    profile = await http.get(f"{second}/v1/lawyer/profile")
    addresses = [c["address"] for c in profile.json().get("contacts", [])]
    if load.hook.url not in addresses:
        problems.append(f"the webhook saved through {first} is unknown to {second}")
    return problems
