"""One service's own database away mid-flow: its consumers wait, and nothing is dead-lettered.

The platform runs as real processes; ONE service reaches the shared PostgreSQL
through a proxy the test cuts for longer than a failing handler's retries used
to last (about 3 s), while the others go on producing events for it. No role
of the shared server is touched. Meanwhile the service says it is not ready,
and once its database is back every event takes effect once and its dead-letter
queues are empty.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import httpx
import pytest
from live_platform import GATEWAY_LIMITS, Person, Platform
from sqlalchemy.engine import make_url

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.stack import Stack

pytestmark = pytest.mark.system

OUTAGE_SECONDS = 10.0
DETECTION_SECONDS = 30.0
"""How long the event may take to reach the consumer (through the other service's outbox)."""
RECOVERY_SECONDS = 30.0
"""What an operator is promised: every effect within this long of the database's return."""


@pytest.fixture
async def proxied(stack: Stack) -> AsyncIterator[tuple[Platform, dict[str, TcpProxy]]]:
    """The platform with the notifier and wishlists each reaching its database through a proxy.

    One platform for both outages, one after the other: starting it is most
    of the time this takes.
    """
    proxies: dict[str, TcpProxy] = {}
    overrides = dict(GATEWAY_LIMITS)
    try:
        for service in ("notifier", "wishlists"):
            url = make_url(stack.database.urls[service])
            proxy = proxies[service] = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
            await proxy.start()
            through = url.set(host="127.0.0.1", port=proxy.port)
            overrides[service] = {
                f"{service.upper()}_DATABASE_URL": through.render_as_string(hide_password=False)
            }
        await stack.start_platform(overrides)
        async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30) as http:
            yield Platform(stack, http), proxies
    finally:
        for proxy in proxies.values():
            await proxy.stop()


async def _readiness(stack: Stack, service: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{stack.url(service)}/readyz")
    return response.status_code, response.json()["checks"]


async def _consumers_waiting(stack: Stack, service: str) -> bool:
    status, checks = await _readiness(stack, service)
    return status == 503 and checks["consumers"] == "unavailable"


async def _ready_again(stack: Stack, service: str) -> bool:
    status, checks = await _readiness(stack, service)
    return status == 200 and checks["consumers"] == "ok"


async def _dead_letters(stack: Stack, *queues: str) -> dict[str, int]:
    connection = await aio_pika.connect(stack.servers.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        counts = {}
        for queue in queues:
            name = f"{stack.namespace.queue_prefix}{queue}.dlq"
            declared = await channel.declare_queue(name, passive=True)
            counts[queue] = declared.declaration_result.message_count or 0
        return counts


async def _outage_lasted(started: float) -> bool:
    return time.monotonic() - started >= OUTAGE_SECONDS


async def _wait_out_the_outage(started: float) -> None:
    await eventually(lambda: _outage_lasted(started), timeout=OUTAGE_SECONDS + 30, interval=0.5)


async def test_a_service_database_away_mid_flow_is_waited_out_and_nothing_is_dead_lettered(
    proxied: tuple[Platform, dict[str, TcpProxy]],
) -> None:
    platform, proxies = proxied
    await _notifier_database_away_while_items_are_reserved(platform, proxies["notifier"])
    # The notifier is back to normal: the other service's outage is its own.
    await _wishlists_database_away_while_accounts_change(platform, proxies["wishlists"])


async def _notifier_database_away_while_items_are_reserved(
    platform: Platform, proxy: TcpProxy
) -> None:
    """Every item_reserved notification arrives after the return, once each."""
    stack = platform.stack
    owner, viewer, reserver = [await platform.person(n) for n in ("Olga", "Vera", "Rick")]
    wishlist = (await platform.post(owner, "/wishlists", {"title": "Birthday"}))["id"]
    for person in (viewer, reserver):
        await platform.share(owner, wishlist, person)
    items = [
        (await platform.post(owner, f"/wishlists/{wishlist}/items", {"title": f"Gift {n}"}))["id"]
        for n in range(5)
    ]
    await eventually(lambda: _kinds_of(platform, viewer, "item_added", 5), timeout=20)

    proxy.cut()
    cut_at = time.monotonic()
    for item in items:
        await platform.post(reserver, f"/wishlists/{wishlist}/items/{item}/reservations", {})
    # The notifier's consumer found its database away and waits, not ready.
    await eventually(
        lambda: _consumers_waiting(stack, "notifier"),
        timeout=DETECTION_SECONDS,
        message="the notifier never reported its consumers waiting",
    )
    await _wait_out_the_outage(cut_at)
    status, checks = await _readiness(stack, "notifier")
    assert status == 503, checks
    assert checks["consumers"] == "unavailable", checks
    proxy.restore()
    restored_at = time.monotonic()

    await eventually(
        lambda: _kinds_of(platform, viewer, "item_reserved", len(items)),
        timeout=RECOVERY_SECONDS,
        message="every item_reserved notification after the database's return",
    )
    assert time.monotonic() - restored_at < RECOVERY_SECONDS
    reserved = [n for n in await platform.notifications(viewer) if n["kind"] == "item_reserved"]
    assert sorted(n["data"]["item"]["id"] for n in reserved) == sorted(items)  # once each
    await eventually(lambda: _ready_again(stack, "notifier"), timeout=RECOVERY_SECONDS)
    assert await _dead_letters(stack, "notifier.item_reserved") == {"notifier.item_reserved": 0}


async def _kinds_of(platform: Platform, who: Person, kind: str, count: int) -> bool:
    kinds = [n["kind"] for n in await platform.notifications(who)]
    return kinds.count(kind) >= count


async def _wishlists_database_away_while_accounts_change(
    platform: Platform, proxy: TcpProxy
) -> None:
    """Accounts renamed and deleted in auth meanwhile take effect in wishlists after it."""
    stack = platform.stack
    viewer = await platform.person("Vic")
    renamed, deleted = await platform.person("Rita"), await platform.person("Dora")
    lists = {}
    for owner in (renamed, deleted):
        lists[owner.id] = (await platform.post(owner, "/wishlists", {"title": "Mine"}))["id"]
        await platform.share(owner, lists[owner.id], viewer)

    proxy.cut()
    cut_at = time.monotonic()
    # Auth has its own database: the accounts change at once, and auth publishes.
    await platform.ok(renamed, "PATCH", "/auth/me", {"display_name": "Rosalind"})
    await platform.ok(deleted, "DELETE", "/auth/me")
    await eventually(
        lambda: _consumers_waiting(stack, "wishlists"),
        timeout=DETECTION_SECONDS,
        message="wishlists never reported its consumers waiting",
    )
    await _wait_out_the_outage(cut_at)
    assert (await _readiness(stack, "wishlists"))[0] == 503
    proxy.restore()

    async def renamed_there() -> bool:
        response = await platform.call(viewer, "GET", f"/wishlists/{lists[renamed.id]}")
        return response.status_code == 200 and response.json()["owner_display_name"] == "Rosalind"

    async def deleted_there() -> bool:
        response = await platform.call(viewer, "GET", f"/wishlists/{lists[deleted.id]}")
        return response.status_code == 404

    await eventually(renamed_there, timeout=RECOVERY_SECONDS, message="the rename took effect")
    await eventually(deleted_there, timeout=RECOVERY_SECONDS, message="the deletion took effect")
    await eventually(lambda: _ready_again(stack, "wishlists"), timeout=RECOVERY_SECONDS)
    assert await _dead_letters(stack, "wishlists.user_updated", "wishlists.user_deleted") == {
        "wishlists.user_updated": 0,
        "wishlists.user_deleted": 0,
    }
