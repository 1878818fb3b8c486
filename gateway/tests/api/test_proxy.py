"""Forwarding through a running gateway to fake services on real loopback ports."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_harness import (
    CHUNK,
    RunningGateway,
    Services,
    SigningKey,
    StartGateway,
    bearer,
    hang_up_server,
    pattern,
)

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "route",
    [
        ("POST", "/api/v1/auth/logout", "auth"),
        ("PATCH", "/api/v1/auth/me", "auth"),
        ("GET", "/api/v1/wishlists", "wishlists"),
        ("DELETE", "/api/v1/wishlists/7f1c/items/9a2b", "wishlists"),
        ("GET", "/api/v1/wishlists/shared-with-me", "wishlists"),
        ("POST", "/api/v1/shared/abc/join", "wishlists"),
        ("GET", "/api/v1/reservations", "wishlists"),
        ("PUT", "/api/v1/reservations/1", "wishlists"),
        ("GET", "/api/v1/notifications", "notifier"),
        ("POST", "/api/v1/notifications/read-all", "notifier"),
    ],
)
async def test_each_prefix_reaches_its_service_with_the_path_unchanged(
    gateway: RunningGateway,
    services: Services,
    signing_key: SigningKey,
    route: tuple[str, str, str],
) -> None:
    method, path, service = route
    response = await gateway.client.request(method, path, headers=bearer(signing_key.token()))

    assert response.status_code == 200
    assert response.headers["x-service"] == service
    assert [(s.method, s.path) for s in services[service].seen] == [(method, path)]
    others = [name for name in ("auth", "wishlists", "notifier") if name != service]
    assert all(not services[name].seen for name in others)


async def test_head_is_forwarded_and_gets_no_body(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    response = await gateway.client.head("/api/v1/wishlists", headers=bearer(signing_key.token()))

    assert response.status_code == 200
    assert response.content == b""
    assert services.wishlists.seen[0].method == "HEAD"


async def test_percent_encoding_and_query_reach_the_service_exactly(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    raw = "/api/v1/wishlists/a%2Fb%20c/items?limit=5&cursor=x%3D%3D&tag=1&tag=2"

    response = await gateway.client.get(raw, headers=bearer(signing_key.token()))

    assert response.status_code == 200
    seen = services.wishlists.seen[0]
    assert seen.raw_path == b"/api/v1/wishlists/a%2Fb%20c/items"
    assert seen.query == b"limit=5&cursor=x%3D%3D&tag=1&tag=2"


async def test_service_status_headers_and_body_come_back_unchanged(
    gateway: RunningGateway, signing_key: SigningKey
) -> None:
    response = await gateway.client.post(
        "/api/v1/wishlists?status=201", json={"title": "x"}, headers=bearer(signing_key.token())
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json()["body_size"] == len(b'{"title":"x"}')


async def test_unknown_api_path_is_a_404_problem(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/wishlistsx", "/api/v2/wishlists"):
        response = await gateway.client.get(path, headers=bearer(signing_key.token()))
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 404
    assert not services.wishlists.seen


async def test_dot_segments_never_reach_a_service(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    # Sent raw: a normal client would resolve the dots before sending.
    url = httpx.URL(gateway.url).copy_with(raw_path=b"/api/v1/shared/%2e%2e/wishlists")

    response = await gateway.client.get(url, headers=bearer(signing_key.token()))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert not services.wishlists.seen


async def test_request_body_streams_to_the_service_as_it_arrives(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(max_body_bytes=16 * 1024 * 1024)
    data = pattern(8 * 1024 * 1024)

    async def body() -> AsyncIterator[bytes]:
        yield data[:CHUNK]
        # A gateway that buffered the body would forward nothing yet, and this
        # wait would fail: the service must see the first chunk on its own.
        await eventually(lambda: services.wishlists.received >= CHUNK)
        for offset in range(CHUNK, len(data), CHUNK):
            yield data[offset : offset + CHUNK]

    response = await gateway.client.post(
        "/api/v1/wishlists", content=body(), headers=bearer(signing_key.token())
    )

    assert response.status_code == 200
    echoed = response.json()
    assert echoed["body_size"] == len(data)
    assert echoed["body_sha256"] == hashlib.sha256(data).hexdigest()


async def test_request_with_content_length_keeps_it(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(max_body_bytes=16 * 1024 * 1024)
    data = pattern(3 * 1024 * 1024)

    response = await gateway.client.put(
        "/api/v1/wishlists/1", content=data, headers=bearer(signing_key.token())
    )

    assert response.status_code == 200
    seen = services.wishlists.seen[0]
    assert seen.header("content-length") == str(len(data))
    assert seen.header("transfer-encoding") is None
    assert seen.body_sha256 == hashlib.sha256(data).hexdigest()


async def test_response_body_streams_back_before_the_service_finishes(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    size = 8 * 1024 * 1024
    received = bytearray()

    async with (
        asyncio.timeout(20),
        gateway.client.stream(
            "GET",
            f"/api/v1/wishlists/export/download?size={size}&gate=1",
            headers=bearer(signing_key.token()),
        ) as response,
    ):
        assert response.status_code == 200
        chunks = response.aiter_raw()
        # The service holds back everything after its first chunk until the
        # gate opens: a buffering gateway would never deliver this first part.
        received += await anext(chunks)
        services.wishlists.gate.set()
        async for chunk in chunks:
            received += chunk

    assert len(received) == size
    assert hashlib.sha256(received).digest() == hashlib.sha256(pattern(size)).digest()


async def test_body_over_the_limit_is_refused_with_413(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(max_body_bytes=1000)

    declared = await gateway.client.post(
        "/api/v1/wishlists", content=b"x" * 1001, headers=bearer(signing_key.token())
    )

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"y" * 600

    streamed = await gateway.client.post(
        "/api/v1/wishlists", content=chunked(), headers=bearer(signing_key.token())
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
    # The declared one never left the gateway; the streamed one was cut off.
    assert all(seen.body_size <= 1000 for seen in services.wishlists.seen)
    assert len(services.wishlists.seen) <= 1


async def test_body_at_the_limit_passes(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(max_body_bytes=1000)

    response = await gateway.client.post(
        "/api/v1/wishlists", content=b"x" * 1000, headers=bearer(signing_key.token())
    )

    assert response.status_code == 200
    assert [seen.body_size for seen in services.wishlists.seen] == [1000]


async def test_internal_headers_from_the_client_never_reach_a_service(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    # Nothing trusted: the test client plays a client on the internet.
    gateway = await start_gateway(trusted_proxies=[])
    token = signing_key.token()

    response = await gateway.client.get(
        "/api/v1/wishlists",
        headers={
            **bearer(token),
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "for=6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "X-User-Id": "someone-else",
            "X-Internal-Admin": "1",
            "Connection": "x-hop",
            "X-Hop": "only for the first hop",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Custom": "kept",
        },
    )

    assert response.status_code == 200
    seen = services.wishlists.seen[0]
    assert seen.all("x-forwarded-for") == ["127.0.0.1"]
    assert seen.all("x-forwarded-proto") == ["http"]
    for name in (
        "x-forwarded-host",
        "forwarded",
        "x-real-ip",
        "x-user-id",
        "x-internal-admin",
        "x-hop",
        "proxy-authorization",
    ):
        assert seen.all(name) == [], name
    assert seen.all("authorization") == [f"Bearer {token}"]
    assert seen.all("x-custom") == ["kept"]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    # Loopback is trusted by default, as nginx would be.
    response = await gateway.client.get(
        "/api/v1/wishlists",
        headers={
            **bearer(signing_key.token()),
            "X-Forwarded-For": "203.0.113.9, 127.0.0.1",
            "X-Forwarded-Proto": "https",
        },
    )

    assert response.status_code == 200
    seen = services.wishlists.seen[0]
    assert seen.all("x-forwarded-for") == ["203.0.113.9"]
    assert seen.all("x-forwarded-proto") == ["https"]


async def test_only_the_checked_authorization_header_is_forwarded(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    token = signing_key.token()
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer forged")]

    response = await gateway.client.get("/api/v1/wishlists", headers=headers)

    assert response.status_code == 200
    assert services.wishlists.seen[0].all("authorization") == [f"Bearer {token}"]


async def test_cookies_and_set_cookies_cross_the_gateway_unchanged(
    gateway: RunningGateway, services: Services
) -> None:
    # Auth's cookie mode: the browser's Cookie header must reach auth, and
    # every Set-Cookie of auth's answer must reach the browser, each intact.
    first = "wishlist_refresh=abc-_123; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Secure"
    second = "other=; Path=/; Max-Age=0"
    cookie = "wishlist_refresh=abc-_123; theme=dark"

    response = await gateway.client.post(
        "/api/v1/auth/refresh",
        params=[("set-cookie", first), ("set-cookie", second)],
        headers={"Cookie": cookie, "X-Refresh-Token-Transport": "cookie"},
    )

    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == [first, second]
    seen = services.auth.seen[0]
    assert seen.all("cookie") == [cookie]
    assert seen.all("x-refresh-token-transport") == ["cookie"]
    # The gateway's own HTTP client keeps no cookies between users' requests.
    again = await gateway.client.post("/api/v1/auth/refresh")
    assert again.status_code == 200
    assert services.auth.seen[1].all("cookie") == []


async def test_a_sane_request_id_is_kept_end_to_end(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    response = await gateway.client.get(
        "/api/v1/wishlists", headers={**bearer(signing_key.token()), "X-Request-ID": "req-42.a:b"}
    )

    assert response.headers["x-request-id"] == "req-42.a:b"
    assert services.wishlists.seen[0].all("x-request-id") == ["req-42.a:b"]


@pytest.mark.parametrize("supplied", [None, "has spaces", "x" * 200, "<script>"])
async def test_a_missing_or_unsafe_request_id_is_replaced_the_same_both_ways(
    gateway: RunningGateway, services: Services, signing_key: SigningKey, supplied: str | None
) -> None:
    headers = bearer(signing_key.token())
    if supplied is not None:
        headers["X-Request-ID"] = supplied

    response = await gateway.client.get("/api/v1/wishlists", headers=headers)

    returned = response.headers["x-request-id"]
    assert returned != supplied
    assert len(returned) == 32
    assert services.wishlists.seen[0].all("x-request-id") == [returned]


async def test_request_id_comes_back_on_the_gateways_own_errors(
    gateway: RunningGateway,
) -> None:
    response = await gateway.client.get("/api/v1/wishlists", headers={"X-Request-ID": "mine-1"})

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "mine-1"


async def test_service_down_is_a_503_problem_at_once(
    start_gateway: StartGateway, signing_key: SigningKey, dead_port: int
) -> None:
    gateway = await start_gateway(notifier_url=f"http://127.0.0.1:{dead_port}")

    started = time.monotonic()
    response = await gateway.client.get(
        "/api/v1/notifications", headers=bearer(signing_key.token())
    )

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "/problems/upstream-unavailable"
    assert problem["status"] == 503
    assert "notifier" in problem["detail"]


async def test_other_services_keep_working_while_one_is_down(
    start_gateway: StartGateway, signing_key: SigningKey, dead_port: int
) -> None:
    gateway = await start_gateway(notifier_url=f"http://127.0.0.1:{dead_port}")

    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(signing_key.token()))

    assert response.status_code == 200


async def test_slow_service_is_a_504_problem_after_the_read_timeout(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(upstream_read_timeout=0.5)

    started = time.monotonic()
    response = await gateway.client.get(
        "/api/v1/wishlists/slow", headers=bearer(signing_key.token())
    )
    elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 3
    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/upstream-timeout"


async def test_service_that_hangs_up_without_answering_is_a_503_to_retry(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    async with hang_up_server() as url:
        gateway = await start_gateway(notifier_url=url)

        response = await gateway.client.get(
            "/api/v1/notifications", headers=bearer(signing_key.token())
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "/problems/upstream-interrupted"


async def test_a_body_that_breaks_off_is_never_passed_off_as_complete(
    gateway: RunningGateway, signing_key: SigningKey
) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await gateway.client.get("/api/v1/wishlists/broken", headers=bearer(signing_key.token()))

    # And the gateway is fine afterwards.
    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(signing_key.token()))
    assert response.status_code == 200


async def test_a_service_back_from_an_outage_is_reached_again(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    port = int(services.urls["notifier"].rsplit(":", 1)[1])
    proxy = TcpProxy("127.0.0.1", port)
    await proxy.start()
    try:
        gateway = await start_gateway(notifier_url=f"http://127.0.0.1:{proxy.port}")
        headers = bearer(signing_key.token())
        before = await gateway.client.get("/api/v1/notifications", headers=headers)
        assert before.status_code == 200

        proxy.cut()
        during = await gateway.client.get("/api/v1/notifications", headers=headers)
        proxy.restore()

        assert during.status_code == 503
        assert during.headers["retry-after"] == "2"
        assert during.headers["content-type"] == PROBLEM

        async def reached() -> bool:
            response = await gateway.client.get("/api/v1/notifications", headers=headers)
            return response.status_code == 200

        await eventually(reached, message="notifier reached again after the outage")
    finally:
        await proxy.stop()


async def test_a_client_leaving_mid_download_frees_the_service_connection(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    # One connection per service: a leaked one would leave none for the next
    # request, which would then wait out the pool timeout and get a 503.
    gateway = await start_gateway(upstream_max_connections=1, upstream_pool_timeout=5)
    headers = bearer(signing_key.token())

    async with gateway.client.stream(
        "GET", "/api/v1/wishlists/export/download?size=1000000&gate=1", headers=headers
    ) as response:
        await anext(response.aiter_raw())
    # The service is still parked at its gate: only the gateway can free the slot.

    after = await gateway.client.get("/api/v1/wishlists", headers=headers)

    assert after.status_code == 200


async def test_a_client_leaving_mid_upload_frees_the_service_connection(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(upstream_max_connections=1, upstream_pool_timeout=5)
    token = signing_key.token()
    url = httpx.URL(gateway.url)
    assert url.port is not None

    _, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /api/v1/wishlists HTTP/1.1\r\nHost: gateway\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\n".encode()
        + b"x" * 1000
    )
    await writer.drain()
    await eventually(lambda: services.wishlists.received >= 1000)
    writer.close()
    await writer.wait_closed()

    after = await gateway.client.get("/api/v1/wishlists", headers=bearer(token))

    assert after.status_code == 200
    assert sorted(seen.body_size for seen in services.wishlists.seen) == [0, 1000]
    metrics = (await gateway.client.get("/metrics")).text
    assert 'gateway_upstream_failures_total{kind="client_disconnected",service="wishlists"}' in (
        metrics
    )
