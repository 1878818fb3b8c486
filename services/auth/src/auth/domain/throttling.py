"""Failed-login throttling: per account and per client address, and who the client is.

Guessing passwords for one account from many addresses hits the account
limit; trying many accounts from one address hits the address limit. While
either is exhausted every attempt is refused, right password or not, or the
limit would only slow guessing down instead of stopping it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

IPV6_BLOCK_PREFIX = 64
"""One IPv6 client usually holds a whole /64, so addresses are counted per /64."""


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    window_seconds: int


def blocked(failures: int, limit: int) -> bool:
    """After ``limit`` failures in the window, further attempts are refused."""
    return failures >= limit


def account_key(email: str) -> str:
    # Hashed so that Redis holds no email addresses.
    return "login-failures:account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def reset_requests_key(email: str) -> str:
    """Password-reset requests per address, counted whether or not an account has it."""
    return "password-resets:account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def address_key(address: IPAddress | None) -> str:
    if address is None:
        return "login-failures:address:unknown"
    if isinstance(address, IPv6Address):
        block = ip_network(f"{address}/{IPV6_BLOCK_PREFIX}", strict=False)
        return f"login-failures:address:{block}"
    return f"login-failures:address:{address}"


def _parse(value: str) -> IPAddress | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are
    # IPv4 clients, and trusted-proxy networks are written as such.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> IPAddress | None:
    """The address of the client as far as trusted proxies can vouch for it.

    ``X-Forwarded-For`` is read only when the socket peer is a trusted proxy,
    and then from the right: each trusted hop vouches for the one before it,
    and the first untrusted hop is the client. Anything a client wrote itself
    sits further left and is never reached.
    """
    current = _parse(peer) if peer is not None else None
    if current is None:
        return None

    def is_trusted(address: IPAddress) -> bool:
        return any(address in network for network in trusted)

    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(current):
            return current
        parsed = _parse(hop)
        if parsed is None:
            # Garbage from a hop we cannot vouch for: the last trusted hop is
            # the best we know.
            return current
        current = parsed
    return current
