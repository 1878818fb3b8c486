"""What operations rely on: health, readiness (database, Redis, RabbitMQ) and metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = pytest.mark.system


async def test_health_readiness_and_metrics_answer(platform: Platform) -> None:
    (user,) = await platform.users("Mia")
    http = platform.notifier
    assert (await http.get("/healthz")).status_code == 200

    async def ready() -> bool:
        response = await http.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {
            "database": "ok",
            "redis": "ok",
            "rabbitmq": "ok",
            "consumers": "ok",
        }
        return True

    await eventually(ready, timeout=30)
    await platform.unread_count(user)
    metrics = await http.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/api/v1/notifications/unread-count"' in metrics.text
