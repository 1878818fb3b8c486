"""Who the client is behind proxies, and how failed logins are counted."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network

from auth.domain.throttling import (
    account_key,
    address_key,
    blocked,
    client_address,
    reset_requests_key,
)

LOOPBACK = [ip_network("127.0.0.1/32"), ip_network("::1/128")]
TWO_PROXIES = [ip_network("10.0.0.0/8")]


def test_without_a_proxy_the_socket_peer_is_the_client() -> None:
    assert client_address("198.51.100.7", [], LOOPBACK) == IPv4Address("198.51.100.7")


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("198.51.100.7", ["203.0.113.9"], LOOPBACK) == ip_address("198.51.100.7")


def test_a_trusted_proxy_names_the_client() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], LOOPBACK) == ip_address("203.0.113.9")


def test_what_the_client_wrote_itself_is_never_believed() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; the trusted proxy appended
    # the address it saw.
    forwarded = ["1.2.3.4, 203.0.113.9"]
    assert client_address("127.0.0.1", forwarded, LOOPBACK) == ip_address("203.0.113.9")


def test_trusted_hops_are_walked_from_the_right() -> None:
    forwarded = ["203.0.113.9, 10.0.0.2", "10.0.0.1"]
    assert client_address("10.0.0.3", forwarded, TWO_PROXIES) == ip_address("203.0.113.9")


def test_garbage_in_forwarded_for_stops_at_the_last_trusted_hop() -> None:
    assert client_address("127.0.0.1", ["not-an-ip"], LOOPBACK) == ip_address("127.0.0.1")


def test_ipv4_mapped_peers_count_as_ipv4() -> None:
    assert client_address("::ffff:127.0.0.1", ["203.0.113.9"], LOOPBACK) == ip_address(
        "203.0.113.9"
    )


def test_no_peer_means_no_known_address() -> None:
    assert client_address(None, ["203.0.113.9"], LOOPBACK) is None


def test_ipv6_clients_are_counted_per_64_block() -> None:
    one = address_key(ip_address("2001:db8:1:2::1"))
    same_block = address_key(ip_address("2001:db8:1:2:ffff::9"))
    other_block = address_key(ip_address("2001:db8:1:3::1"))
    assert one == same_block != other_block


def test_account_keys_hold_no_email_address() -> None:
    key = account_key("alice@example.com")
    assert "alice" not in key
    assert key == account_key("alice@example.com") != account_key("bob@example.com")


def test_attempts_are_refused_once_the_limit_of_failures_is_reached() -> None:
    assert not blocked(4, limit=5)
    assert blocked(5, limit=5)


def test_reset_requests_are_counted_per_address_without_naming_it() -> None:
    key = reset_requests_key("alice@example.com")
    assert "alice" not in key
    assert key != reset_requests_key("bob@example.com")
    # Not the failed-login counter of the same address: asking for resets
    # must not lock anyone out of logging in.
    assert key != account_key("alice@example.com")
