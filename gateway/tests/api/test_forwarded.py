"""Who the client is behind proxies, and which headers may cross the gateway."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.api.forwarded import (
    client_address,
    forwarded_proto,
    rate_limit_key,
    request_headers,
    response_headers,
)

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]
NGINX = [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        # An untrusted peer is the client, whatever it claims.
        ("198.51.100.7", ["6.6.6.6"], NGINX, "198.51.100.7"),
        # nginx appended the address it saw: that one is the client.
        ("10.0.0.2", ["203.0.113.9"], NGINX, "203.0.113.9"),
        # A client-made entry left of the one nginx appended is not believed.
        ("10.0.0.2", ["6.6.6.6, 203.0.113.9"], NGINX, "203.0.113.9"),
        # Two trusted hops (nginx behind a load balancer).
        ("10.0.0.2", ["203.0.113.9, 10.0.0.3"], NGINX, "203.0.113.9"),
        # Several headers count as one list, in order.
        ("10.0.0.2", ["6.6.6.6", "203.0.113.9"], NGINX, "203.0.113.9"),
        # Only trusted hops: the leftmost is as far as anyone can tell.
        ("10.0.0.2", ["10.0.0.9"], NGINX, "10.0.0.9"),
        # A malformed entry ends the walk at the hop that passed it on.
        ("10.0.0.2", ["203.0.113.9, garbage"], NGINX, "10.0.0.2"),
        # No header: the trusted peer itself.
        ("10.0.0.2", [], NGINX, "10.0.0.2"),
        # Nothing trusted at all.
        ("127.0.0.1", ["6.6.6.6"], [], "127.0.0.1"),
        ("::1", ["2001:db8::5"], LOOPBACK, "2001:db8::5"),
        # IPv4 seen through an IPv6 socket is the IPv4 address.
        ("::ffff:10.0.0.2", ["203.0.113.9"], NGINX, "203.0.113.9"),
        # A Unix socket is only reachable by local processes (nginx beside us).
        (None, ["203.0.113.9"], [], "203.0.113.9"),
        (None, [], [], "unix"),
    ],
)
def test_client_address(
    peer: str | None, forwarded_for: list[str], trusted: list[ipaddress.IPv4Network], expected: str
) -> None:
    assert client_address(peer, forwarded_for, trusted) == expected


def test_proto_is_believed_only_from_a_trusted_peer() -> None:
    assert forwarded_proto("10.0.0.2", "https", "http", NGINX) == "https"
    assert forwarded_proto("198.51.100.7", "https", "http", NGINX) == "http"
    assert forwarded_proto("10.0.0.2", "gopher", "http", NGINX) == "http"
    assert forwarded_proto("10.0.0.2", None, "https", NGINX) == "https"


def test_ipv6_clients_are_limited_per_64() -> None:
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == rate_limit_key("2001:db8:1:2:bbbb::9")
    assert rate_limit_key("2001:db8:1:2::1") != rate_limit_key("2001:db8:1:3::1")
    assert rate_limit_key("203.0.113.9") == "203.0.113.9"


def test_request_headers_lose_hop_by_hop_and_internal_ones() -> None:
    headers = [
        ("host", "gateway.example"),
        ("connection", "keep-alive, x-trace-hop"),
        ("keep-alive", "timeout=5"),
        ("x-trace-hop", "1"),
        ("te", "trailers"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "websocket"),
        ("proxy-authorization", "Basic x"),
        ("expect", "100-continue"),
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "for=6.6.6.6"),
        ("x-real-ip", "6.6.6.6"),
        ("x-user-id", "42"),
        ("x-internal-token", "s"),
        ("x-request-id", "abc"),
        ("authorization", "Bearer t"),
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("accept-encoding", "gzip"),
        ("cookie", "a=b"),
        ("x-user-role", "admin"),
        ("user-agent", "curl/8"),
    ]

    assert request_headers(headers) == [
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("accept-encoding", "gzip"),
        ("cookie", "a=b"),
        ("user-agent", "curl/8"),
    ]


def test_response_headers_lose_hop_by_hop_ones_and_keep_the_rest() -> None:
    headers = [
        ("date", "Mon"),
        ("server", "uvicorn"),
        ("connection", "close"),
        ("transfer-encoding", "chunked"),
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
        ("content-length", "10"),
        ("location", "/api/v1/wishlists/1"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]

    assert response_headers(headers) == [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
        ("content-length", "10"),
        ("location", "/api/v1/wishlists/1"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
