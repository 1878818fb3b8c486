"""Which links may be fetched and which addresses may be connected to; pure rules, no I/O.

A host is judged by the addresses it resolves to, never by its name alone:
names are whatever their DNS says. Host spellings that are really addresses
("2130706433", "0x7f000001", "0177.0.0.1", "127.1") are read as a browser
reads them (WHATWG URL), so they are judged as the address they are and never
reach a resolver.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

from wishlists.domain.errors import UrlNotAllowed
from wishlists.domain.validation import URL_MAX_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Spelled out although ``is_global`` covers most of it: its tables have
# changed between Python releases, and this list must not.
NON_PUBLIC_V4 = tuple(
    _V4(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast (255.255.255.255)
    )
)
NON_PUBLIC_V6 = tuple(
    _V6(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible (deprecated)
        "::ffff:0:0/96",  # IPv4-mapped: the kernel connects to the IPv4 address
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID ...
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique-local (AWS metadata fd00:ec2::254)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
NAT64 = _V6("64:ff9b::/96")
"""Well-known NAT64 prefix: the last 32 bits are the IPv4 address really reached."""

_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


def is_public(address: IPAddress) -> bool:
    """True for a public unicast address, the only kind a link preview may connect to."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return False
        if any(address in net for net in NON_PUBLIC_V6):
            return False
        if address in NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    elif any(address in net for net in NON_PUBLIC_V4):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def ip_address(text: str) -> IPAddress | None:
    """An address as a resolver writes it (an IPv6 one may carry a ``%zone``), or None."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class SocketAddress:
    address: IPAddress
    port: int

    def __str__(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{host}:{self.port}"


def socket_address(text: str) -> SocketAddress:
    """``"127.0.0.1:8080"`` or ``"[::1]:8080"``; ``ValueError`` for anything else."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not an address with a port, such as 127.0.0.1:8080")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return SocketAddress(ipaddress.ip_address(host), int(port))


@dataclass(frozen=True)
class Target:
    """A link that passed the URL rules, ready to be resolved and fetched."""

    scheme: str
    host: str
    """Lower-case, IDNA-encoded name, or the address as text."""
    address: IPAddress | None
    """The host when it is an address: then nothing is resolved."""
    port: int
    path: str
    """Path and query, percent-encoded, never empty; no fragment."""

    @property
    def authority(self) -> str:
        host = (
            f"[{self.host}]"
            if self.address is not None and self.address.version == 6
            else self.host
        )
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The normalised URL: what the preview says it read, and its cache key."""
        return f"{self.scheme}://{self.authority}{self.path}"


def check_url(raw: str) -> Target:
    """The link as a :class:`Target`, or :class:`UrlNotAllowed` saying why not."""
    url = raw.strip()
    if len(url) > URL_MAX_LENGTH:
        raise UrlNotAllowed(f"The link is longer than {URL_MAX_LENGTH} characters.")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise UrlNotAllowed("The link contains spaces or control characters.")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed("The link is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlNotAllowed("Only http and https links can be previewed.")
    if "@" in parts.netloc:
        raise UrlNotAllowed("Links with a user name or password are not fetched.")
    if port == 0:
        raise UrlNotAllowed("The link's port is not valid.")
    # An address in the link is judged with the resolved ones, by the fetcher.
    host, address = _host(parts.netloc, parts.hostname)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, address, port or SCHEMES[scheme], _encoded(path))


def _host(netloc: str, hostname: str | None) -> tuple[str, IPAddress | None]:
    if not hostname:
        raise UrlNotAllowed("The link names no host.")
    if "[" in netloc:
        if "%" in hostname:
            raise UrlNotAllowed("Links to an address with a zone (an interface) are not fetched.")
        try:
            v6 = ipaddress.IPv6Address(hostname)
        except ValueError as exc:
            raise UrlNotAllowed("The link's host is not a valid address.") from exc
        return str(v6), v6
    name = urllib.parse.unquote(hostname).rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise UrlNotAllowed("The link points at this server itself (localhost).")
    v4 = whatwg_ipv4(name)
    if v4 is not None:
        return str(v4), v4
    try:
        encoded = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise UrlNotAllowed("The link's host is not a valid host name.") from exc
    labels = encoded.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or len(encoded) > 253:
        raise UrlNotAllowed("The link's host is not a valid host name.")
    return encoded, None


def whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a browser reads ``host`` as, or None when it is a name.

    A host whose last label is a number is an address: each part decimal,
    octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    One that looks like a number but is not a valid address is refused.
    """
    parts = host.split(".")
    if not _IPV4_PART.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        raise UrlNotAllowed("The link's host is not a valid address.")
    numbers = [_ipv4_number(part) for part in parts]
    last = numbers.pop()
    if any(n > 255 for n in numbers) or last >= 256 ** (5 - len(parts)):
        raise UrlNotAllowed("The link's host is not a valid address.")
    value = last
    for i, n in enumerate(numbers):
        value += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not part.isdigit() or any(c in "89" for c in part):
            raise UrlNotAllowed("The link's host is not a valid address.")
        return int(part, 8)
    return int(part)


def _encoded(path: str) -> str:
    # What a browser sends for the same link: characters outside ASCII
    # percent-encoded, existing escapes kept as they are.
    return urllib.parse.quote(path, safe="/?&=%:@!$'()*+,;~-._[]")


def allowed(address: SocketAddress, exceptions: frozenset[SocketAddress]) -> bool:
    """May ``address`` be connected to: public, or named in the test-only exceptions."""
    return is_public(address.address) or address in exceptions
