"""Who the client is, and which headers cross the gateway in each direction.

The client's address is the peer's, unless the peer is a trusted proxy (nginx):
then X-Forwarded-For is read from the right, skipping trusted hops, and the
first address that no trusted hop vouches for is the client. Anything a client
sends to impersonate a proxy or an internal caller is dropped before the
request reaches a service.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from gateway.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 9110 7.6.1 (plus the pre-standard ones still seen in the wild): they
# describe one connection, not the message, so they never cross a proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)

# Set by the gateway itself (Authorization: only the header it checked), or by
# the HTTP client for the upstream connection (Host, Expect).
_REPLACED_ON_REQUEST = frozenset(
    {"host", "authorization", "x-request-id", "forwarded", "x-real-ip", "expect"}
)
# Internal headers a service might trust; only the gateway may set them.
_INTERNAL_PREFIXES = ("x-forwarded-", "x-user-", "x-internal-")
# uvicorn writes its own Date and Server on every response.
_REPLACED_ON_RESPONSE = frozenset({"date", "server"})

UNIX_SOCKET_PEER = "unix"
"""The peer of a connection over a Unix socket: only local processes can open
one (nginx beside the gateway), so it counts as a trusted proxy."""


def parse_address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address as text.

    ``forwarded_for`` is every X-Forwarded-For header value in order. Entries
    are believed only as far as each hop that added one is trusted; a
    malformed entry ends the walk at the hop that passed it on.
    """
    if peer is None or peer == UNIX_SOCKET_PEER:
        current: IPAddress | None = None
    else:
        current = parse_address(peer)
        if current is None:
            return peer
        if not _trusted(current, trusted):
            return str(current)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not _trusted(current, trusted):
            break
    return str(current) if current is not None else UNIX_SOCKET_PEER


def peer_is_trusted(peer: str | None, trusted: Sequence[IPNetwork]) -> bool:
    if peer is None or peer == UNIX_SOCKET_PEER:
        return True
    address = parse_address(peer)
    return address is not None and _trusted(address, trusted)


def forwarded_proto(
    peer: str | None, claimed: str | None, scheme: str, trusted: Sequence[IPNetwork]
) -> str:
    """The scheme the client used: nginx terminates TLS and says so in X-Forwarded-Proto."""
    if claimed and peer_is_trusted(peer, trusted):
        first = claimed.split(",")[0].strip().lower()
        if first in ("http", "https"):
            return first
    return scheme


def rate_limit_key(address: str) -> str:
    """The key of a client address for rate limits.

    An IPv6 client usually holds a whole /64; counting per address would let
    it rotate through 2**64 of them.
    """
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def _connection_listed(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Header names that a Connection header declares hop-by-hop."""
    return {
        token.strip().lower()
        for name, value in headers
        if name == "connection"
        for token in value.split(",")
        if token.strip()
    }


def request_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers (names lower-case) that may travel on to a service."""
    dropped = HOP_BY_HOP | _REPLACED_ON_REQUEST | _connection_listed(headers)
    return [
        (name, value)
        for name, value in headers
        if name not in dropped and not name.startswith(_INTERNAL_PREFIXES)
    ]


def response_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """A service's response headers (names lower-case) that go back to the client."""
    dropped = HOP_BY_HOP | _REPLACED_ON_RESPONSE | _connection_listed(headers)
    return [(name, value) for name, value in headers if name not in dropped]
