"""The gateway as a whole: health, readiness, metrics, CORS, and its process."""

from __future__ import annotations

import httpx
import pytest
from gateway_harness import RunningGateway, Services, SigningKey, StartGateway, bearer
from pydantic import ValidationError

from gateway.settings import Settings
from wishlist_shared.testing.processes import ServiceProcess
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace

APP = "https://app.example"


async def test_healthz_answers_without_anything_else(
    start_gateway: StartGateway, dead_port: int
) -> None:
    gateway = await start_gateway(
        auth_url=f"http://127.0.0.1:{dead_port}", redis_url=f"redis://127.0.0.1:{dead_port}/0"
    )

    response = await gateway.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_redis_answers_and_the_jwks_can_be_fetched(
    gateway: RunningGateway,
) -> None:
    response = await gateway.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"redis": "ok", "jwks": "ok"}}


async def test_not_ready_without_the_jwks(start_gateway: StartGateway, dead_port: int) -> None:
    gateway = await start_gateway(jwks_url=f"http://127.0.0.1:{dead_port}/jwks.json")

    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": "ok", "jwks": "unavailable"}


async def test_not_ready_without_redis(start_gateway: StartGateway, dead_port: int) -> None:
    gateway = await start_gateway(redis_url=f"redis://127.0.0.1:{dead_port}/0")

    response = await gateway.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": "unavailable", "jwks": "ok"}


async def test_ready_while_a_service_is_down(start_gateway: StartGateway, dead_port: int) -> None:
    gateway = await start_gateway(wishlists_url=f"http://127.0.0.1:{dead_port}")

    assert (await gateway.client.get("/readyz")).status_code == 200


async def test_metrics_count_requests_and_service_answers(
    gateway: RunningGateway, signing_key: SigningKey
) -> None:
    await gateway.client.get("/api/v1/notifications", headers=bearer(signing_key.token()))
    await gateway.client.get("/api/v1/notifications")

    response = await gateway.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'gateway_upstream_responses_total{service="notifier",status="200"}' in text
    assert 'gateway_rejections_total{reason="unauthenticated"}' in text
    assert (
        'http_requests_total{method="GET",route="/api/v1/notifications",service="gateway",'
        'status="401"}' in text
    )


async def test_no_cors_headers_unless_origins_are_configured(
    gateway: RunningGateway, signing_key: SigningKey
) -> None:
    response = await gateway.client.get(
        "/api/v1/wishlists", headers={**bearer(signing_key.token()), "Origin": APP}
    )

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_cors_preflight_is_answered_for_a_configured_origin(
    start_gateway: StartGateway, services: Services
) -> None:
    gateway = await start_gateway(cors_origins=[APP])

    response = await gateway.client.options(
        "/api/v1/wishlists",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert not services.wishlists.seen


async def test_cors_lets_an_allowed_origin_use_the_refresh_cookie(
    start_gateway: StartGateway, services: Services
) -> None:
    gateway = await start_gateway(cors_origins=[APP])

    preflight = await gateway.client.options(
        "/api/v1/auth/refresh",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-refresh-token-transport",
        },
    )
    actual = await gateway.client.post(
        "/api/v1/auth/refresh",
        params={"set-cookie": "wishlist_refresh=x; HttpOnly"},
        headers={"Origin": APP, "X-Refresh-Token-Transport": "cookie"},
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    assert preflight.headers["access-control-allow-credentials"] == "true"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-refresh-token-transport" in allowed
    assert actual.headers["access-control-allow-origin"] == APP
    assert actual.headers["access-control-allow-credentials"] == "true"
    assert actual.headers.get_list("set-cookie") == ["wishlist_refresh=x; HttpOnly"]


def test_a_wildcard_cors_origin_is_refused() -> None:
    # With credentials allowed, "*" would let any website use the user's cookie.
    for origins in ("*", "https://app.example,*", '["*"]'):
        with pytest.raises(ValidationError, match="not allowed"):
            Settings(cors_origins=origins)


async def test_cors_is_refused_for_other_origins(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(cors_origins=[APP])

    preflight = await gateway.client.options(
        "/api/v1/wishlists",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    simple = await gateway.client.get(
        "/api/v1/shared/x", headers={"Origin": "https://evil.example"}
    )

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_responses_expose_the_request_id(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(cors_origins=[APP])

    response = await gateway.client.get("/api/v1/shared/x", headers={"Origin": APP})

    assert response.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_the_process_starts_from_its_environment(
    services: Services, servers: Servers, namespace: Namespace, signing_key: SigningKey
) -> None:
    process = ServiceProcess(
        "gateway",
        "gateway.main:create_app",
        {
            "GATEWAY_AUTH_URL": services.urls["auth"],
            "GATEWAY_WISHLISTS_URL": services.urls["wishlists"],
            "GATEWAY_NOTIFIER_URL": services.urls["notifier"],
            "GATEWAY_REDIS_URL": servers.redis_url,
            "GATEWAY_REDIS_PREFIX": namespace.redis_prefix,
            "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.1",
            "GATEWAY_CORS_ORIGINS": APP,
        },
    )
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=10) as client:
            ready = await client.get("/readyz")
            response = await client.get(
                "/api/v1/notifications?unread=true", headers=bearer(signing_key.token())
            )
            cors = await client.get("/api/v1/shared/x", headers={"Origin": APP})
    finally:
        await process.stop()

    assert ready.status_code == 200, process.logs()
    assert response.status_code == 200, process.logs()
    assert [(s.path, s.query) for s in services.notifier.seen] == [
        ("/api/v1/notifications", b"unread=true")
    ]
    assert cors.headers["access-control-allow-origin"] == APP
