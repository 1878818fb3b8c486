"""The link-preview guard's rules: which links pass, which addresses are public.

Pure functions only: none of these addresses is ever contacted.
"""

from __future__ import annotations

import ipaddress

import pytest

from wishlists.domain.errors import UrlNotAllowed
from wishlists.previews.guard import (
    SocketAddress,
    allowed,
    check_url,
    is_public,
    socket_address,
    whatwg_ipv4,
)

NON_PUBLIC = [
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "127.0.0.1",
    "127.255.0.9",
    "::1",
    "fc00::",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "0.0.0.0",  # noqa: S104 - an address to judge, nothing binds to it
    "0.1.2.3",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:8.8.8.8",  # mapped: never needed, refused whatever it maps
    "::127.0.0.1",  # IPv4-compatible
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",  # benchmarking
    "192.0.2.1",  # documentation
    "192.0.0.8",
    "fe80::1",
    "fe80::1%1",
    "fec0::1",
    "ff02::1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::808:808",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "100::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_the_test_allowlist_names_exact_socket_addresses() -> None:
    page = socket_address("127.0.0.1:8080")
    exceptions = frozenset({page})
    assert allowed(page, exceptions)
    assert not allowed(SocketAddress(page.address, 8081), exceptions)
    assert not allowed(socket_address("127.0.0.2:8080"), exceptions)
    assert allowed(socket_address("8.8.8.8:443"), exceptions)
    assert str(socket_address(" [::1]:99 ")) == "[::1]:99"


@pytest.mark.parametrize("text", ["127.0.0.1", "localhost:80", "127.0.0.1:0", "1.2.3.4:70000", ""])
def test_allowlist_entries_must_be_an_address_and_a_port(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        socket_address(text)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("10.1.65535", "10.1.255.255"),
        ("8.8.8.8", "8.8.8.8"),
        ("0", "0.0.0.0"),  # noqa: S104 - an address to judge, nothing binds to it
    ],
)
def test_numeric_hosts_are_read_as_a_browser_reads_them(host: str, address: str) -> None:
    assert whatwg_ipv4(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["shop.example", "1.2.3.example", "xn--bcher-kva.de"])
def test_names_are_not_addresses(host: str) -> None:
    assert whatwg_ipv4(host) is None


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "09.1.1.1", "example.123", "1.2.3.256"])
def test_malformed_numeric_hosts_are_refused(host: str) -> None:
    with pytest.raises(UrlNotAllowed):
        whatwg_ipv4(host)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://shop.example/p/1?colour=red#reviews", "https://shop.example/p/1?colour=red"),
        ("HTTP://Shop.Example:80", "http://shop.example/"),
        ("https://shop.example:8443/x", "https://shop.example:8443/x"),
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
        ("http://[2606:4700::1111]:8080/", "http://[2606:4700::1111]:8080/"),
        ("  https://shop.example/a%20b  ", "https://shop.example/a%20b"),
    ],
)
def test_links_are_normalised(url: str, normalised: str) -> None:
    assert check_url(url).url == normalised


def test_an_address_in_the_link_is_kept_for_the_fetcher_to_judge() -> None:
    target = check_url("http://0x7f000001:8080/")
    assert target.address == ipaddress.IPv4Address("127.0.0.1")
    assert (target.host, target.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://shop.example/x",
        "gopher://127.0.0.1:6379/_INFO",
        "data:text/html,<title>hi</title>",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/",
        "//shop.example/x",
        "shop.example/x",
        "http:///nohost",
        "https://user:secret@shop.example/",
        "https://user@shop.example/",
        "http://localhost:8080/",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "http://shop.example:99999/",
        "http://shop.example:0/",
        "http://sh op.example/",
        "http://shop.ex\nample/",
        "http://[::1/",
        "http://[fe80::1%25eth0]/",
        "http://exa%2fmple.com/",
        "http://" + "a" * 64 + ".example/",
        "https://shop.example/" + "x" * 2100,
    ],
)
def test_links_other_than_plain_web_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url)
