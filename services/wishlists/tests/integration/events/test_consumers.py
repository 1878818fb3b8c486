"""Auth's events as wishlists consumes them: once each, whatever the bus redelivers.

Events are published straight onto the exchange here, as auth's relay would,
so a test can deliver the very same envelope twice, or in any order.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aio_pika
import asyncpg
import pytest

from wishlist_shared.events import (
    Envelope,
    EventPayload,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from wishlist_shared.outbox import CORRELATION_HEADER
from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, Platform

pytestmark = pytest.mark.system

API = "/api/v1"


class Bus:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def publish(self, envelope: Envelope[Any]) -> None:
        connection = await aio_pika.connect(self.platform.stack.servers.rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(self.platform.stack.namespace.exchange)
            await exchange.publish(
                aio_pika.Message(
                    Envelope.model_dump_json(envelope).encode(),
                    message_id=str(envelope.id),
                    content_type="application/json",
                    headers={CORRELATION_HEADER: envelope.correlation_id},
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.type,
            )

    async def handled_twice(self, envelope: Envelope[Any]) -> None:
        """Waits until wishlists has seen ``envelope`` again and skipped it."""
        process = self.platform.stack.processes["wishlists"]
        await eventually(
            lambda: f"event {envelope.id} ({envelope.type}) already handled" in process.logs(),
            message=f"the redelivered {envelope.type} was never handled",
        )


def envelope(payload: EventPayload, at: datetime | None = None) -> Envelope[Any]:
    wrapped = Envelope.wrap(payload)
    return wrapped.model_copy(update={"occurred_at": at}) if at else wrapped


async def _admin(platform: Platform) -> asyncpg.Connection:
    return await asyncpg.connect(platform.stack.database.admin_url)


async def _count(platform: Platform, sql: str, *args: Any) -> int:
    conn = await _admin(platform)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def _events_about(platform: Platform, routing_key: str, needle: str) -> int:
    return await _count(
        platform,
        "SELECT count(*) FROM wishlists.outbox WHERE routing_key = $1 AND body::text LIKE $2",
        routing_key,
        f"%{needle}%",
    )


@pytest.fixture
def bus_of(platform: Platform) -> Bus:
    return Bus(platform)


async def test_a_redelivered_registration_activates_pending_shares_once(
    api: Api, platform: Platform, bus_of: Bus
) -> None:
    owner = await api.user("Olga")
    wishlist = await api.create_list(owner)
    email = f"pending-{uuid.uuid4().hex[:8]}@example.com"
    assert (await api.share(owner, wishlist["id"], email)).json()["status"] == "pending"
    newcomer = uuid.uuid4()
    registered = envelope(
        UserRegistered(
            user_id=newcomer, email=email, display_name="Nina", created_at=datetime.now(UTC)
        )
    )

    await bus_of.publish(registered)

    async def activated() -> bool:
        return await _events_about(platform, "wishlists.wishlist_shared.v2", str(newcomer)) == 1

    await eventually(activated)
    await bus_of.publish(registered)
    await bus_of.handled_twice(registered)
    assert await _events_about(platform, "wishlists.wishlist_shared.v2", str(newcomer)) == 1
    shares = (
        await api.gateway.get(f"{API}/wishlists/{wishlist['id']}/shares", headers=owner.auth)
    ).json()["items"]
    assert [(s["status"], s["viewer_id"], s["viewer_display_name"]) for s in shares] == [
        ("active", str(newcomer), "Nina")
    ]


async def test_a_redelivered_update_does_not_undo_a_later_one(
    api: Api, platform: Platform, bus_of: Bus
) -> None:
    owner = await api.user("Olga")
    wishlist = await api.create_list(owner)
    now = datetime.now(UTC)
    first = envelope(
        UserUpdated(user_id=uuid.UUID(owner.id), email=owner.email, display_name="Olga B."),
        now + timedelta(seconds=1),
    )
    second = envelope(
        UserUpdated(user_id=uuid.UUID(owner.id), email=owner.email, display_name="Olga C."),
        now + timedelta(seconds=2),
    )

    async def owner_name() -> str:
        return str((await api.get_list(owner, wishlist["id"])).json()["owner_display_name"])

    async def named(expected: str) -> bool:
        return await owner_name() == expected

    await bus_of.publish(first)
    await eventually(lambda: named("Olga B."))
    await bus_of.publish(second)
    await eventually(lambda: named("Olga C."))
    await bus_of.publish(first)
    await bus_of.handled_twice(first)
    assert await owner_name() == "Olga C."


async def test_a_redelivered_deletion_erases_and_announces_once(
    api: Api, platform: Platform, bus_of: Bus
) -> None:
    owner, viewer = await api.users("Olga", "Vera")
    wishlist = await api.create_list(owner)
    await api.make_viewer(owner, wishlist["id"], viewer)
    deleted = envelope(UserDeleted(user_id=uuid.UUID(owner.id)))

    await bus_of.publish(deleted)

    async def erased() -> bool:
        return (
            await _count(
                platform,
                "SELECT count(*) FROM wishlists.wishlists WHERE owner_id = $1",
                uuid.UUID(owner.id),
            )
            == 0
        )

    await eventually(erased)
    assert await _events_about(platform, "wishlists.wishlist_deleted.v1", wishlist["id"]) == 1
    await bus_of.publish(deleted)
    await bus_of.handled_twice(deleted)
    assert await _events_about(platform, "wishlists.wishlist_deleted.v1", wishlist["id"]) == 1


async def test_a_registration_arriving_after_the_deletion_does_not_revive_the_user(
    platform: Platform, bus_of: Bus
) -> None:
    ghost = uuid.uuid4()
    await bus_of.publish(envelope(UserDeleted(user_id=ghost)))

    async def remembered() -> bool:
        return (
            await _count(
                platform, "SELECT count(*) FROM wishlists.deleted_users WHERE id = $1", ghost
            )
            == 1
        )

    await eventually(remembered)
    late = envelope(
        UserRegistered(
            user_id=ghost,
            email=f"ghost-{ghost.hex[:8]}@example.com",
            display_name="Ghost",
            created_at=datetime.now(UTC) - timedelta(seconds=5),
        )
    )
    await bus_of.publish(late)
    process = platform.stack.processes["wishlists"]
    await eventually(lambda: f"event {late.id} is about deleted user {ghost}" in process.logs())
    assert await _count(platform, "SELECT count(*) FROM wishlists.users WHERE id = $1", ghost) == 0


async def test_display_name_changes_reach_lists_and_shares(api: Api) -> None:
    owner, viewer = await api.users("Olga", "Vera")
    wishlist = await api.create_list(owner)
    await api.make_viewer(owner, wishlist["id"], viewer)
    renamed = await api.gateway.patch(
        f"{API}/auth/me", json={"display_name": "Vera V."}, headers=viewer.auth
    )
    assert renamed.status_code == 200

    async def shown() -> bool:
        shares = await api.gateway.get(
            f"{API}/wishlists/{wishlist['id']}/shares", headers=owner.auth
        )
        return bool(shares.json()["items"][0]["viewer_display_name"] == "Vera V.")

    await eventually(shown)
