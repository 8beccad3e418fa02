"""Where a webhook may point: public unicast addresses only, whatever form the address takes.

Pure rules (no I/O): the registration check and delivery's check of resolved addresses both ask
`is_public`. An IPv6 address that carries an IPv4 one (mapped, compatible, 6to4, NAT64) is judged
as that IPv4 address, because a gateway on the way turns it into exactly that: `64:ff9b::a00:1`
reaches 10.0.0.1 through the network's NAT64, though `ipaddress` calls it global.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")  # RFC 4291 IPv4-compatible (deprecated)
# Never public whatever they carry: local-use NAT64 (RFC 8215) and site-local (RFC 3879).
_NEVER: Final = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("fec0::/10"))
# A host whose last label is a number is an IPv4 address to URL parsers and to getaddrinfo
# (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`, `0`), never a DNS name (WHATWG URL).
_NUMERIC_LABEL: Final = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PRIVATE_SUFFIXES: Final = (".localhost", ".local", ".internal")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, or None if it carries none."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether a webhook may be sent to this address (global unicast, also what it embeds)."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _NEVER):
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


def host_problem(host: str) -> str | None:
    """Why a URL's host (as `urlsplit` gives it) may not be a webhook target, or None."""
    name = host.lower().removesuffix(".")
    if name == "localhost" or name.endswith(_PRIVATE_SUFFIXES):
        return "webhook URL points at a private host"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        if _NUMERIC_LABEL.fullmatch(name.rpartition(".")[2]):
            return "write an IP address in its standard form (dotted quad or IPv6)"
        return None  # a name: checked again when it is resolved at delivery time
    return None if is_public(address) else "webhook URL points at a private address"
