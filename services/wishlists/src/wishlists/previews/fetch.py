"""Fetching a link's page under :mod:`.guard`'s rules, and under limits of time and size.

The host is resolved once, off the event loop; every address must pass; the
connection goes to the first vetted address that accepts it, with the URL's
host replaced by that address. The original name still travels as ``Host``
and, for https, as the TLS server name (httpcore's ``sni_hostname``), so the
certificate is checked against the name and nothing looks up the name again.

One client for the process, but no connection is kept for another request
(keep-alive off): a pooled connection is keyed by address, and must never carry
a request for another name than the one its TLS session was checked for. No
cookies are kept either, nor proxies taken from the environment.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import socket
import urllib.parse
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from wishlists.domain.errors import LinkUnreadable, UrlNotAllowed
from wishlists.previews import guard
from wishlists.previews.guard import IPAddress, SocketAddress, Target

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Mozilla/5.0 (compatible; WishlistLinkPreview/1.0)"

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


@dataclass(frozen=True)
class FetchLimits:
    timeout_seconds: float = 5.0
    """For everything: resolving, connecting, every redirect, the whole body."""
    max_bytes: int = 1024 * 1024
    max_redirects: int = 5


@dataclass(frozen=True)
class Page:
    url: str
    """Where the body came from after redirects (normalised)."""
    body: bytes
    charset: str | None
    """As the response declared it, if it did."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The host's addresses; the system resolver runs in a worker thread (asyncio's)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = guard.ip_address(str(sockaddr[0]))
        if address is not None and address not in found:
            found.append(address)
    return found


class _NoCookies(http.cookiejar.CookieJar):
    """A jar that keeps nothing: one user's fetch must not carry another's cookies."""

    def __init__(self) -> None:
        super().__init__(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class LinkFetcher:
    def __init__(
        self,
        limits: FetchLimits,
        exceptions: frozenset[SocketAddress] = frozenset(),
        resolver: Resolver = resolve,
    ) -> None:
        self.limits = limits
        self.exceptions = exceptions
        self.resolver = resolver
        self.client = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            cookies=_NoCookies(),
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=httpx.Timeout(limits.timeout_seconds),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(self, url: str) -> Page:
        """The page at ``url``: :class:`UrlNotAllowed` or :class:`LinkUnreadable` otherwise."""
        target = guard.check_url(url)
        seconds = self.limits.timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._follow(target)
        except TimeoutError as exc:
            raise LinkUnreadable(f"The page did not load within {seconds:g} seconds.") from exc

    async def _follow(self, target: Target) -> Page:
        for _ in range(self.limits.max_redirects + 1):
            addresses = await self._vet(target)
            response = await self._open(target, addresses)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    # Checked like the link itself: a redirect is a new link.
                    target = guard.check_url(urllib.parse.urljoin(target.url, location))
                    continue
                return Page(target.url, await self._body(target, response), _charset(response))
            finally:
                await response.aclose()
        raise LinkUnreadable(f"The link redirects more than {self.limits.max_redirects} times.")

    async def _vet(self, target: Target) -> list[IPAddress]:
        # A name that resolves to an internal address is answered exactly as a
        # name that does not resolve: were the two told apart, the previewer
        # would map which names exist inside the operator's network.
        not_found = LinkUnreadable(f"The host {target.host} could not be found.")
        if target.address is not None:
            addresses = [target.address]
        else:
            try:
                addresses = await self.resolver(target.host, target.port)
            except (OSError, UnicodeError) as exc:
                raise not_found from exc
            if not addresses:
                raise not_found
        refused = [
            a
            for a in addresses
            if not guard.allowed(SocketAddress(a, target.port), self.exceptions)
        ]
        if refused:
            log.info("link preview refused: %s resolves to %s", target.host, refused[0])
            if target.address is not None:
                raise UrlNotAllowed(f"The link points at a non-public address ({refused[0]}).")
            raise not_found
        return addresses

    async def _open(self, target: Target, addresses: list[IPAddress]) -> httpx.Response:
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.client.send(self._request(target, address), stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = exc  # another address of the same host may answer
            except httpx.TimeoutException as exc:
                raise LinkUnreadable(f"{target.host} did not answer in time.") from exc
            except httpx.HTTPError as exc:
                raise LinkUnreadable(f"The connection to {target.host} failed.") from exc
        log.info("link preview could not connect to %s: %r", target.host, failure)
        raise LinkUnreadable(f"Could not connect to {target.host}.")

    def _request(self, target: Target, address: IPAddress) -> httpx.Request:
        host = f"[{address}]" if address.version == 6 else str(address)
        extensions: dict[str, object] = {}
        if target.scheme == "https" and target.address is None:
            extensions["sni_hostname"] = target.host
        return self.client.build_request(
            "GET",
            f"{target.scheme}://{host}:{target.port}{target.path}",
            headers={
                "Host": target.authority,
                "User-Agent": USER_AGENT,
                "Accept": "text/html,application/xhtml+xml;q=0.9",
                "Accept-Encoding": "gzip, deflate",
                "Connection": "close",
            },
            extensions=extensions,
        )

    async def _body(self, target: Target, response: httpx.Response) -> bytes:
        status = response.status_code
        if not 200 <= status < 300:
            raise LinkUnreadable(
                f"The page answered {status} {response.reason_phrase}".strip() + "."
            )
        media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in HTML_TYPES:
            shown = media_type or "no content type"
            raise LinkUnreadable(f"The link is not a web page ({shown}).")
        limit = self.limits.max_bytes
        too_large = LinkUnreadable(f"The page is larger than {limit // 1024} KiB.")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        inflate = _inflater(response.headers.get("content-encoding", ""))
        body = bytearray()
        received = 0
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                body += inflate(chunk, limit - len(body) + 1)
                if len(body) > limit or received > limit:
                    raise too_large
        except httpx.TimeoutException as exc:
            raise LinkUnreadable(f"{target.host} did not send the page in time.") from exc
        except httpx.HTTPError as exc:
            raise LinkUnreadable(f"The connection to {target.host} broke off.") from exc
        except zlib.error as exc:
            raise LinkUnreadable("The page's compression is broken.") from exc
        return bytes(body)


def _charset(response: httpx.Response) -> str | None:
    return response.charset_encoding


def _inflater(encoding: str) -> Callable[[bytes, int], bytes]:
    """Decompression that never makes more than asked for (a small gzip can expand a lot)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk, limit: chunk
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise LinkUnreadable(f"The page is compressed in a way that is not read ({encoding}).")
    # zlib or gzip framing, whichever the header says.
    stream = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)
    return lambda chunk, limit: stream.decompress(chunk, max(limit, 1))
