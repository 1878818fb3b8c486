"""Crashes and replicas: every notification exists exactly once, and every push goes out.

The burst is big enough that a replica is mid-way through it when it is
killed (the test waits until some, not all, notifications exist), and that
two replicas with a prefetch of 10 both get a share of it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from wishlist_shared.events import Envelope, ItemAdded
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import ServiceProcess
from wishlist_shared.testing.stack import FACTORIES

if TYPE_CHECKING:
    from conftest import Platform, User

pytestmark = pytest.mark.system

BURST = 150


async def burst(platform: Platform, owner: User, viewers: list[User]) -> list[uuid.UUID]:
    ref = platform.wishlist_ref(owner)
    ids = []
    for n in range(BURST):
        envelope: Envelope[ItemAdded] = Envelope.wrap(
            ItemAdded(
                wishlist=ref,
                item=platform.item_snapshot(f"item {n}"),
                recipient_ids=tuple(v.id for v in viewers),
            )
        )
        await platform.bus.publish(envelope)
        ids.append(envelope.id)
    return ids


async def every_one_exactly_once(
    platform: Platform, event_ids: list[uuid.UUID], viewers: list[User]
) -> None:
    expected = {(e, v.id) for e in event_ids for v in viewers}

    async def all_there() -> bool:
        counts = Counter(await platform.rows(event_ids))
        assert all(n == 1 for n in counts.values()), counts.most_common(3)
        assert set(counts) == expected, f"{len(counts)} of {len(expected)}"
        return True

    await eventually(all_there, timeout=60, message="notifications were lost")

    async def all_pushed() -> bool:
        async with platform.db.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM notifier.outbox WHERE state = 'pending'")
            )
        assert pending == 0, f"{pending} pushes pending"
        return True

    await eventually(all_pushed, timeout=30)
    for viewer in viewers:
        assert await platform.unread_count(viewer) == BURST


async def test_a_notifier_killed_mid_burst_loses_and_repeats_nothing(
    own_platform: Platform,
) -> None:
    platform = own_platform
    owner, *viewers = await platform.users("Olga", "Alice", "Bob")
    # Published while the kill is prepared: the notifier is consuming when it dies.
    publishing = asyncio.create_task(burst(platform, owner, viewers))

    async def midway() -> bool:
        async with platform.db.connect() as conn:
            done = await conn.scalar(text("SELECT count(*) FROM notifier.notifications"))
        assert done < BURST * len(viewers), "the burst was over before the kill"
        return bool(done)

    await eventually(midway, timeout=30, interval=0.01)
    platform.stack.processes["notifier"].kill()
    event_ids = await publishing
    await platform.stack.start("notifier")
    await every_one_exactly_once(platform, event_ids, viewers)


async def test_two_notifiers_share_a_burst_without_duplicates(own_platform: Platform) -> None:
    platform = own_platform
    stack = platform.stack
    second = ServiceProcess("notifier-2", FACTORIES["notifier"], stack.env("notifier"))
    await second.start()
    stack.processes["notifier-2"] = second
    owner, *viewers = await platform.users("Olga", "Alice", "Bob")

    def second_consumes() -> bool:
        return "broker started" in second.logs()

    await eventually(second_consumes, timeout=60)
    event_ids = await burst(platform, owner, viewers)
    await every_one_exactly_once(platform, event_ids, viewers)
    for name in ("notifier", "notifier-2"):
        assert "item_added notifications" in stack.processes[name].logs(), f"{name} did nothing"
