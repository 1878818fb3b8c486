"""Each process's ``/metrics`` after a little real traffic: the numbers an operator watches.

The whole platform runs as real processes; a viewer holds a WebSocket while a
list is shared with them, someone mistypes a password and is then throttled,
and each process's metrics must say so (docs/operations.md names them).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import SERVICES, Stack

pytestmark = pytest.mark.system

API = "/api/v1"
PASSWORD = "correct horse battery"


def samples(text: str, name: str, **labels: str) -> list[float]:
    """Values of the samples called ``name`` whose labels include ``labels``."""
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]


def total(text: str, name: str, **labels: str) -> float:
    found = samples(text, name, **labels)
    assert found, f"{name}{labels} is not exported"
    return sum(found)


async def scrape(stack: Stack, component: str) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{stack.url(component)}/metrics")
    assert response.status_code == 200
    return response.text


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    await stack.start_platform(
        {
            # One wrong password locks the account: the next attempt is throttled.
            "auth": {"AUTH_LOGIN_FAILURES_PER_ACCOUNT": "1"},
            "gateway": {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"},
        }
    )
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=20) as client:
        yield client


async def person(http: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    assert (await http.post(f"{API}/auth/register", json=body)).status_code == 201
    login = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_every_process_exports_what_the_dashboards_and_alerts_watch(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    _, owner = await person(http, "Olga")
    viewer_email, viewer = await person(http, "Vera")
    victim_email, _ = await person(http, "Tom")
    wrong = {"email": victim_email, "password": "not the password"}
    assert (await http.post(f"{API}/auth/login", json=wrong)).status_code == 401
    assert (await http.post(f"{API}/auth/login", json=wrong)).status_code == 429

    socket_url = stack.url("gateway").replace("http://", "ws://") + "/ws"
    async with connect(socket_url, additional_headers=viewer, open_timeout=10) as ws:
        created = await http.post(f"{API}/wishlists", json={"title": "Birthday"}, headers=owner)
        assert created.status_code == 201
        shared = await http.post(
            f"{API}/wishlists/{created.json()['id']}/shares",
            json={"email": viewer_email},
            headers=owner,
        )
        assert shared.status_code == 201
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert message["notification"]["kind"] == "wishlist_shared"

        gateway = await scrape(stack, "gateway")
        assert total(gateway, "gateway_websockets_open") == 1
        assert total(gateway, "gateway_notifications_sent_total", source="live") == 1
        assert samples(gateway, "gateway_notifications_dropped_total") == []

    routed = {"service": "gateway", "route": "/api/v1/auth/{rest:path}"}
    assert total(gateway, "http_requests_total", **routed, method="POST", status="429") == 1
    assert total(gateway, "http_request_duration_seconds_count", **routed, status_class="4xx") >= 2
    assert total(gateway, "gateway_upstream_responses_total", service="wishlists") >= 2

    auth = await scrape(stack, "auth")
    assert total(auth, "auth_login_attempts_total", outcome="success") == 3
    assert total(auth, "auth_login_attempts_total", outcome="failed") == 1
    assert total(auth, "auth_login_attempts_total", outcome="throttled") == 1
    login = {"service": "auth", "method": "POST", "route": "/api/v1/auth/login"}
    assert total(auth, "http_requests_total", **login, status="401") == 1
    assert total(auth, "http_request_duration_seconds_count", **login, status_class="2xx") == 3

    # The relays sample their backlog every few seconds; the consumers settle
    # a moment after the effect a client can see.
    async def settled() -> dict[str, str]:
        texts = {name: await scrape(stack, name) for name in SERVICES}
        handled = samples(
            texts["notifier"],
            "consumer_messages_handled_total",
            queue="notifier.wishlist_shared_v2",
        )
        sampled = samples(texts["wishlists"], "outbox_pending_events", outbox="wishlists")
        # The dead-letter samplers start with the broker, in the background.
        dead_letters = samples(
            texts["wishlists"], "dead_letter_queue_messages", queue="wishlists.user_registered"
        ) and samples(texts["notifier"], "dead_letter_queue_messages", queue="notifier.item_added")
        return texts if handled and sampled and dead_letters else {}

    texts = await eventually(settled, timeout=20)
    assert total(texts["auth"], "outbox_events_published_total", outbox="auth") >= 3
    for name in SERVICES:
        text = texts[name]
        assert total(text, "outbox_pending_events", outbox=name) >= 0
        assert total(text, "outbox_oldest_pending_age_seconds", outbox=name) < 60
        assert total(text, "outbox_parked_events", outbox=name) == 0
        assert total(text, "readiness_check_up", check="rabbitmq") == 1
        assert samples(text, "consumer_messages_dead_lettered_total") == []

    wishlists = texts["wishlists"]
    registered = {"queue": "wishlists.user_registered"}
    assert total(wishlists, "consumer_messages_handled_total", **registered) == 3
    # Each service samples the dead-letter queues of its own queues, and only those.
    assert total(wishlists, "dead_letter_queue_messages", **registered) == 0
    assert samples(wishlists, "dead_letter_queue_messages", queue="notifier.item_added") == []
    assert total(texts["notifier"], "dead_letter_queue_messages", queue="notifier.item_added") == 0
    assert total(wishlists, "consumer_event_lag_seconds_count", **registered) == 3
    assert total(wishlists, "consumer_handling_duration_seconds_count", **registered) == 3
    assert total(wishlists, "outbox_events_published_total", outbox="wishlists") >= 1
    assert total(wishlists, "outbox_publish_delay_seconds_count", outbox="wishlists") >= 1
    shares = {"service": "wishlists", "route": "/api/v1/wishlists/{wishlist_id}/shares"}
    assert total(wishlists, "http_requests_total", **shares, status="201") == 1

    notifier = texts["notifier"]
    assert (
        total(notifier, "consumer_messages_handled_total", queue="notifier.wishlist_shared_v2") == 1
    )
    # The notifier's outbox holds pushes: the one the socket got was published.
    assert total(notifier, "outbox_events_published_total", outbox="notifier") >= 1
