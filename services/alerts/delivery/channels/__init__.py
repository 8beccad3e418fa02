"""The channel registry: every way an alert reaches a person, what each may carry, how it sends.

A channel is a module of this package that defines `KIND` and `from_settings(settings)`, which
builds a `Channel`. Adding one is adding that module: it is found when this package is first
imported, the profile API then accepts its kind in any role (`contacts`, `backup_contacts`,
`duty_contacts`), the worker sends through it, and the ack's wait covers its timeout. Nothing
else compares channel names.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.alerts.delivery.domain import ContactSpec, Outgoing, SendResult
from services.alerts.settings import AlertsSettings


class Channel(Protocol):
    """One way of reaching a contact: its addresses, its extras, what it may carry, its send."""

    @property
    def kind(self) -> str:
        """The name in the API's `channel` field, the contacts table and the delivery key."""

    @property
    def accepts(self) -> frozenset[str]:
        """The optional contact fields it takes (`domain.SECRET`, `domain.PGP_KEY`); others are
        refused."""

    @property
    def carries_details(self) -> bool:
        """Whether label, match, incident, legal basis and place may travel without OpenPGP."""

    @property
    def encrypts_with_pgp_key(self) -> bool:
        """Whether a contact's OpenPGP key makes its messages end-to-end encrypted (and then
        the details may travel)."""

    @property
    def carries_action_links(self) -> bool:
        """Whether a link that acts (the ack link) may travel without OpenPGP: only where what
        it carries is readable by its recipient alone."""

    @property
    def timeout_s(self) -> float:
        """The longest one send can take (an acknowledgement waits at most this long)."""

    def parse_address(self, address: str) -> str:
        """The address as stored; ValueError (with the reason) if it is not one of this kind."""

    def parse_secret(self, secret: str) -> str:
        """The contact's secret as stored; ValueError (with the reason) if it is not one of this
        kind (only asked of channels whose `accepts` holds `domain.SECRET`)."""

    def acts_for(self, address: str, secret: str | None) -> bool:
        """Whether a link that acts may reach this endpoint although `carries_action_links` is
        False: a path the operator vouches for to the recipient alone (ntfy's); mostly False."""

    def check(self, contact: ContactSpec) -> None:
        """Refuse (InvalidInput) a contact this deployment will not send to or cannot use."""

    def new_secret(self) -> str | None:
        """A fresh secret for a new contact (shown once), or None if the channel signs nothing."""

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """One attempt; the receiver's and the network's failures are results, not errors."""

    async def aclose(self) -> None:
        """Release what the channel holds (connections)."""


ChannelFactory = Callable[[AlertsSettings], Channel]


def sealed(channel: Channel, pgp_key: str | None) -> bool:
    """Whether this send is end-to-end encrypted to its recipient (their OpenPGP key)."""
    return channel.encrypts_with_pgp_key and bool(pgp_key)


def may_carry_details(channel: Channel, pgp_key: str | None) -> bool:
    """Whether this send may carry the alert's details."""
    return channel.carries_details or sealed(channel, pgp_key)


def may_carry_action_links(
    channel: Channel, pgp_key: str | None, address: str = "", secret: str | None = None
) -> bool:
    """Whether this send may carry a link that acknowledges (anyone holding it acts as them)."""
    return (
        channel.carries_action_links
        or sealed(channel, pgp_key)
        or channel.acts_for(address, secret)
    )


def _discover() -> dict[str, ChannelFactory]:
    """Every module of this package with a `KIND` and a `from_settings` is a channel."""
    found: dict[str, ChannelFactory] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind, factory = getattr(module, "KIND", None), getattr(module, "from_settings", None)
        if isinstance(kind, str) and callable(factory):
            if kind in found:
                raise RuntimeError(f"two channel modules claim the kind {kind!r}")
            found[kind] = factory
    return found


_FACTORIES: dict[str, ChannelFactory] = _discover()


def register(kind: str, factory: ChannelFactory) -> None:
    """Add a channel kind at run time (a test's fake, say); ValueError if the kind is taken."""
    if kind in _FACTORIES:
        raise ValueError(f"channel kind {kind!r} is registered already")
    _FACTORIES[kind] = factory


def unregister(kind: str) -> None:
    """Remove a kind `register` added."""
    _FACTORIES.pop(kind, None)


def kinds() -> tuple[str, ...]:
    """Every registered kind, sorted."""
    return tuple(sorted(_FACTORIES))


def registered_kind(value: str) -> str:
    """`value` if it names a registered channel; ValueError otherwise (the API's 422)."""
    if value not in _FACTORIES:
        raise ValueError(f"unknown channel kind; registered: {', '.join(kinds())}")
    return value


@dataclass(frozen=True)
class Channels:
    """The channels one process sends through, by kind."""

    by_kind: Mapping[str, Channel]

    def get(self, kind: str) -> Channel | None:
        """The channel of this kind, or None if this process has none."""
        return self.by_kind.get(kind)

    def __iter__(self) -> Iterator[Channel]:
        """Every channel."""
        return iter(self.by_kind.values())

    def longest_send_s(self) -> float:
        """How long the slowest channel's one send may take."""
        return max(channel.timeout_s for channel in self)

    async def aclose(self) -> None:
        """Close every channel."""
        for channel in self:
            await channel.aclose()


def build(settings: AlertsSettings) -> Channels:
    """One instance of every registered channel, configured from the settings."""
    return Channels({kind: factory(settings) for kind, factory in _FACTORIES.items()})
