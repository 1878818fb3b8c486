"""What operations rely on: health, readiness, metrics, correlation ids, production mode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from wishlist_shared.testing.stack import Stack

if TYPE_CHECKING:
    from conftest import AuthApi

pytestmark = pytest.mark.system


async def test_health_readiness_and_metrics_answer(auth: AuthApi) -> None:
    assert (await auth.http.get("/healthz")).status_code == 200
    ready = await auth.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "rabbitmq": "ok",
        "consumers": "ok",
        "revocations": "ok",
    }
    await auth.http.get("/api/v1/auth/jwks.json")
    metrics = await auth.http.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/api/v1/auth/jwks.json"' in metrics.text


async def test_readiness_fails_when_the_database_is_unreachable(stack: Stack) -> None:
    process = await stack.start(
        "auth", AUTH_DATABASE_URL="postgresql+asyncpg://auth_svc:x@127.0.0.1:1/nowhere"
    )
    async with httpx.AsyncClient(base_url=process.url) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"


async def test_log_lines_are_json_with_the_request_id(auth: AuthApi, stack: Stack) -> None:
    response = await auth.http.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": "unknown"},
        headers={"X-Request-ID": "trace-me-123"},
    )
    assert response.headers["x-request-id"] == "trace-me-123"
    # Reuse of a spent token is logged; an unknown token is not, so log one.
    account = await auth.register()
    tokens = await auth.tokens(account)
    await auth.refresh(tokens["refresh_token"])
    await auth.http.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        headers={"X-Request-ID": "reuse-456"},
    )
    lines = [json.loads(line) for line in stack.processes["auth"].logs().splitlines() if line]
    reuse = [line for line in lines if "reused" in line.get("message", "")]
    assert reuse
    assert reuse[0]["correlation_id"] == "reuse-456"
    assert reuse[0]["service"] == "auth"


async def test_production_mode_refuses_to_start_with_development_secrets(stack: Stack) -> None:
    with pytest.raises(RuntimeError, match="refuses development secrets") as refused:
        await stack.start("auth", AUTH_ENVIRONMENT="production")
    assert "secret_key" in str(refused.value)
