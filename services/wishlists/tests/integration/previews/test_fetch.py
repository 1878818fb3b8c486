"""The link fetcher against real sockets on loopback: limits, redirects, pinning, refusals.

Every server here listens on 127.0.0.1 (or ::1). A page server is reachable
only because its exact ``ip:port`` is in the fetcher's test exceptions; a trap
is not, and must never see a connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from wishlist_shared.testing.pages import PageServer, page_server, redirect, response
from wishlists.domain.errors import LinkUnreadable, UrlNotAllowed
from wishlists.previews.fetch import FetchLimits, LinkFetcher
from wishlists.previews.guard import IPAddress, socket_address

HTML = "<html><head><title>Kite</title></head></html>"
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


@pytest.fixture
async def site() -> AsyncIterator[PageServer]:
    async with page_server({"/": response(HTML)}) as server:
        yield server


@pytest.fixture
async def trap() -> AsyncIterator[PageServer]:
    async with page_server() as server:
        yield server


def fetcher(site: PageServer, **limits: Any) -> LinkFetcher:
    return LinkFetcher(FetchLimits(**limits), frozenset({socket_address(site.address)}))


async def test_an_allowed_page_is_fetched_whole(site: PageServer) -> None:
    f = fetcher(site)
    try:
        page = await f.fetch(site.url("/") + "#fragment")
    finally:
        await f.aclose()
    assert page.body.decode() == HTML
    assert page.charset == "utf-8"
    assert page.url == site.url("/")
    assert site.requests[0].headers["host"] == site.address


async def test_redirects_are_followed_and_the_final_url_is_told(site: PageServer) -> None:
    site.pages["/old"] = redirect("/new?x=1", "301 Moved Permanently")
    site.pages["/new?x=1"] = response(HTML)
    f = fetcher(site)
    try:
        page = await f.fetch(site.url("/old"))
    finally:
        await f.aclose()
    assert page.url == site.url("/new?x=1")


async def test_an_address_not_allowed_is_never_connected_to(
    site: PageServer, trap: PageServer
) -> None:
    f = fetcher(site)
    try:
        for url in (
            trap.url("/"),
            f"http://0x7f000001:{trap.port}/",
            f"http://[::ffff:127.0.0.1]:{trap.port}/",
        ):
            with pytest.raises(UrlNotAllowed, match="non-public"):
                await f.fetch(url)
    finally:
        await f.aclose()
    assert trap.connections == 0


async def test_a_redirect_to_a_refused_address_is_refused(
    site: PageServer, trap: PageServer
) -> None:
    site.pages["/go"] = redirect(trap.url("/"))
    site.pages["/file"] = redirect("file:///etc/passwd")
    f = fetcher(site)
    try:
        with pytest.raises(UrlNotAllowed):
            await f.fetch(site.url("/go"))
        with pytest.raises(UrlNotAllowed):
            await f.fetch(site.url("/file"))
    finally:
        await f.aclose()
    assert trap.connections == 0


async def test_redirects_are_capped(site: PageServer) -> None:
    for n in range(4):
        site.pages[f"/{n}"] = redirect(f"/{n + 1}")
    site.pages["/4"] = response(HTML)
    f = fetcher(site, max_redirects=3)
    try:
        with pytest.raises(LinkUnreadable, match="more than 3"):
            await f.fetch(site.url("/0"))
        assert (await f.fetch(site.url("/1"))).url == site.url("/4")
    finally:
        await f.aclose()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (response("x" * 5000), "larger than 4 KiB"),
        (response("x" * 5000, length=False), "larger than 4 KiB"),
        # A few KiB that inflate to ten MiB: stopped at the limit, not inflated whole.
        (response(b"\0" * 10 * 1024 * 1024, gzipped=True), "larger than 4 KiB"),
        (response("PNG", content_type="image/png"), "not a web page"),
        (response(HTML, content_type=None), "not a web page"),
        (response("gone", status="404 Not Found"), "answered 404"),
        (response("oops", status="503 Service Unavailable"), "answered 503"),
        (response(HTML, headers={"Content-Encoding": "br"}), "compressed"),
    ],
)
async def test_pages_past_the_limits_are_unreadable(
    site: PageServer, raw: bytes, message: str
) -> None:
    site.pages["/p"] = raw
    f = fetcher(site, max_bytes=4096)
    try:
        with pytest.raises(LinkUnreadable, match=message):
            await f.fetch(site.url("/p"))
    finally:
        await f.aclose()


async def test_a_compressed_page_is_read(site: PageServer) -> None:
    site.pages["/gz"] = response(HTML, gzipped=True)
    f = fetcher(site)
    try:
        assert (await f.fetch(site.url("/gz"))).body.decode() == HTML
    finally:
        await f.aclose()


async def test_a_page_that_never_ends_is_given_up_on_in_time(site: PageServer) -> None:
    site.stall.add("/slow")
    f = fetcher(site, timeout_seconds=0.5)
    started = asyncio.get_running_loop().time()
    try:
        with pytest.raises(LinkUnreadable, match=r"within 0\.5 seconds"):
            await f.fetch(site.url("/slow"))
    finally:
        await f.aclose()
    assert asyncio.get_running_loop().time() - started < 3


async def test_cookies_are_never_kept(site: PageServer) -> None:
    site.pages["/set"] = response(HTML, headers={"Set-Cookie": "session=secret; Path=/"})
    f = fetcher(site)
    try:
        await f.fetch(site.url("/set"))
        await f.fetch(site.url("/"))
    finally:
        await f.aclose()
    assert "cookie" not in site.requests[-1].headers


async def test_a_closed_port_is_unreadable_not_an_error_of_ours() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    f = LinkFetcher(FetchLimits(), frozenset({socket_address(f"127.0.0.1:{port}")}))
    try:
        with pytest.raises(LinkUnreadable, match="Could not connect"):
            await f.fetch(f"http://127.0.0.1:{port}/")
    finally:
        await f.aclose()


class Names:
    """A resolver for made-up names, so that no test asks a real DNS server."""

    def __init__(self, answers: dict[str, list[IPAddress]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


@pytest.fixture
def no_system_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fails any lookup of a name by the system resolver in this process (addresses pass)."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            looked_up.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "lookups are not allowed here") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return looked_up


async def test_the_vetted_address_is_the_one_connected_to(
    site: PageServer, no_system_lookups: list[str]
) -> None:
    names = Names({"shop.example": [LOOPBACK]})
    f = LinkFetcher(FetchLimits(), frozenset({socket_address(site.address)}), names)
    try:
        page = await f.fetch(f"http://shop.example:{site.port}/")
    finally:
        await f.aclose()
    assert page.url == f"http://shop.example:{site.port}/"
    assert names.asked == ["shop.example"]  # resolved once
    assert no_system_lookups == []  # and never again by the HTTP client
    assert site.requests[0].headers["host"] == f"shop.example:{site.port}"


async def test_a_name_with_any_refused_address_is_refused(
    site: PageServer, trap: PageServer, no_system_lookups: list[str]
) -> None:
    # The page's address is allowed; the name also resolves to one that is
    # not, which a client could be made to pick: nothing is connected to.
    names = Names({"shop.example": [LOOPBACK, ipaddress.IPv4Address("10.0.0.1")]})
    f = LinkFetcher(FetchLimits(), frozenset({socket_address(site.address)}), names)
    try:
        with pytest.raises(LinkUnreadable, match="could not be found") as refused:
            await f.fetch(f"http://shop.example:{site.port}/")
    finally:
        await f.aclose()
    assert "10.0.0.1" not in str(refused.value)  # internal addresses are not told
    assert site.connections == 0


async def test_an_internal_name_is_answered_as_an_unknown_one(trap: PageServer) -> None:
    # Told apart, the two would map which names exist inside the network.
    names = Names({"db.internal": [ipaddress.IPv4Address("10.0.0.7")], "printer.lan": [LOOPBACK]})
    f = LinkFetcher(FetchLimits(), frozenset(), names)
    answers = []
    try:
        for host in ("db.internal", "printer.lan", "nothing.internal"):
            with pytest.raises(LinkUnreadable) as failed:
                await f.fetch(f"http://{host}:{trap.port}/")
            answers.append(str(failed.value).replace(host, "<host>"))
    finally:
        await f.aclose()
    assert answers == ["The host <host> could not be found."] * 3
    assert trap.connections == 0
