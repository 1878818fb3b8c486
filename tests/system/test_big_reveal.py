"""The largest reveal a list allows reaches every viewer: no event too big to be read.

A list with 500 received items, shared as widely as sharing allows: 500
direct shares and 20 groups of 100 (the owner and 99 others), 2,480 viewers.
Its reveal used to be one event carrying every item whole and every viewer,
megabytes that every consumer dead-letters unread; now it is pages of
``wishlist_revealed.v2``, each under ``MAX_EVENT_BYTES``, and each viewer is
told once.

The audience and the items are written straight into wishlists' tables
(thousands of registrations and shares through the API would take minutes);
the owner, the list and the reveal go through the gateway, and the
notifications are what the notifier made of the events, read from its tables
once every page was handled.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import aio_pika
import asyncpg
import pytest
from live_platform import Platform

from wishlist_shared.events import MAX_EVENT_BYTES, REVEALED_SAMPLE_MAX, WishlistRevealedV2, encode
from wishlist_shared.testing.eventually import eventually
from wishlists.domain.limits import (
    MAX_GROUPS_PER_WISHLIST,
    MAX_ITEMS_PER_WISHLIST,
    MAX_MEMBERS_PER_GROUP,
    MAX_SHARES_PER_WISHLIST,
)

pytestmark = [pytest.mark.system, pytest.mark.timeout(240)]

QUEUE = "notifier.wishlist_revealed_v2"
TOLD_WITHIN = 120.0
"""Seconds for every page to become notifications (2,480 rows, on a busy CI machine)."""


async def seed_audience(db: asyncpg.Connection, wishlist_id: str, owner_id: str) -> list[str]:
    """The list's viewers: direct shares to the limit and groups to theirs. Returns their ids."""
    direct = [str(uuid.uuid4()) for _ in range(MAX_SHARES_PER_WISHLIST)]
    groups = [str(uuid.uuid4()) for _ in range(MAX_GROUPS_PER_WISHLIST)]
    # The owner is one of each group's members: the others are viewers.
    members = {g: [str(uuid.uuid4()) for _ in range(MAX_MEMBERS_PER_GROUP - 1)] for g in groups}
    grouped = [(g, m) for g, ms in members.items() for m in ms]
    viewers = direct + [m for _, m in grouped]
    await db.execute(
        """
        INSERT INTO wishlists.users (id, email, display_name, profile_at)
        SELECT u, 'seed-' || u::text || '@example.com', 'Seeded', 'epoch'::timestamptz
        FROM unnest($1::uuid[]) AS u
        """,
        viewers,
    )
    await db.execute(
        "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, viewer_id, via, activated_at)"
        " SELECT gen_random_uuid(), $1, $2, v, 'link', now() FROM unnest($3::uuid[]) AS v",
        wishlist_id,
        owner_id,
        direct,
    )
    await db.execute(
        "INSERT INTO wishlists.groups (id, owner_id, name)"
        " SELECT g, $1, 'Group ' || n FROM unnest($2::uuid[]) WITH ORDINALITY AS t(g, n)",
        owner_id,
        groups,
    )
    await db.execute(
        """
        INSERT INTO wishlists.group_members
            (id, group_id, group_owner_id, user_id, role, joined_at)
        SELECT gen_random_uuid(), g, $1::uuid, $1::uuid, 'owner', now()
        FROM unnest($2::uuid[]) AS g
        UNION ALL
        SELECT gen_random_uuid(), g, $1::uuid, m, 'member', now()
        FROM unnest($3::uuid[], $4::uuid[]) AS t(g, m)
        """,
        owner_id,
        groups,
        [g for g, _ in grouped],
        [m for _, m in grouped],
    )
    await db.execute(
        "INSERT INTO wishlists.wishlist_groups (wishlist_id, owner_id, group_id)"
        " SELECT $1, $2, g FROM unnest($3::uuid[]) AS g",
        wishlist_id,
        owner_id,
        groups,
    )
    await db.execute(
        """
        INSERT INTO wishlists.shares
            (id, wishlist_id, owner_id, viewer_id, via, group_id, activated_at)
        SELECT gen_random_uuid(), $1, $2, m, 'group', g, now()
        FROM unnest($3::uuid[], $4::uuid[]) AS t(g, m)
        """,
        wishlist_id,
        owner_id,
        [g for g, _ in grouped],
        [m for _, m in grouped],
    )
    return viewers


async def seed_reserved_items(
    db: asyncpg.Connection, wishlist_id: str, owner_id: str, reservers: list[str]
) -> list[str]:
    """A full list, every item reserved (so the reveal archives each as received).

    Titles in the order of addition (``Gift 001`` first), which the reveal's
    sample follows.
    """
    titles = [f"Gift {n:03}" for n in range(1, MAX_ITEMS_PER_WISHLIST + 1)]
    ids = [str(uuid.uuid4()) for _ in titles]
    await db.execute(
        """
        INSERT INTO wishlists.items
            (id, wishlist_id, owner_id, title, quantity, priority, created_at, updated_at)
        SELECT i, $1, $2, t, 1, 3, now() - (interval '1 second' * ($5 - n)), now()
        FROM unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS x(i, t, n)
        """,
        wishlist_id,
        owner_id,
        ids,
        titles,
        len(titles),
    )
    await db.execute(
        "INSERT INTO wishlists.reservations (id, item_id, wishlist_id, reserver_id, quantity)"
        " SELECT gen_random_uuid(), i, $1, r, 1 FROM unnest($2::uuid[], $3::uuid[]) AS t(i, r)",
        wishlist_id,
        ids,
        [reservers[n % len(reservers)] for n in range(len(ids))],
    )
    return titles


async def dead_letters(platform: Platform, queue: str) -> int:
    connection = await aio_pika.connect(platform.stack.servers.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(
            platform.stack.namespace.queue_prefix + queue + ".dlq", passive=True
        )
        return declared.declaration_result.message_count or 0


async def test_a_reveal_of_500_items_to_2480_viewers_tells_each_viewer_once(
    platform: Platform,
) -> None:
    owner = await platform.person("Olga")
    wishlist = await platform.post(owner, "/wishlists", {"title": "Everything"})
    wid = wishlist["id"]
    db = await asyncpg.connect(platform.stack.database.admin_url)
    try:
        viewers = await seed_audience(db, wid, owner.id)
        titles = await seed_reserved_items(db, wid, owner.id, viewers)
        assert len(viewers) == 2480
        assert await platform.sees(owner, wid)

        revealed = await platform.post(owner, f"/wishlists/{wid}/reveal", {"early": True})
        assert len(revealed["received"]) == MAX_ITEMS_PER_WISHLIST

        # The pages, as wishlists committed them: every one small enough to be read.
        pages = await db.fetch(
            "SELECT event_id, body FROM wishlists.outbox"
            " WHERE routing_key = $1 AND body->'payload'->'wishlist'->>'id' = $2",
            WishlistRevealedV2.routing_key,
            wid,
        )
        assert len(pages) > 1
        for page in pages:
            body: dict[str, Any] = _json(page["body"])
            assert len(encode(body)) <= MAX_EVENT_BYTES
            assert body["payload"]["received_count"] == MAX_ITEMS_PER_WISHLIST
        page_ids = [page["event_id"] for page in pages]

        async def every_page_handled() -> bool:
            handled = await db.fetchval(
                "SELECT count(*) FROM notifier.inbox WHERE consumer = $1"
                " AND event_id = ANY($2::uuid[])",
                QUEUE,
                page_ids,
            )
            assert handled == len(page_ids), f"{handled} of {len(page_ids)} pages handled"
            return True

        await eventually(every_page_handled, timeout=TOLD_WITHIN, interval=0.5)

        told = await db.fetch(
            "SELECT recipient_id, data FROM notifier.notifications"
            " WHERE kind = 'wishlist_revealed' AND data->'wishlist'->>'id' = $1",
            wid,
        )
    finally:
        await db.close()
    recipients = [str(row["recipient_id"]) for row in told]
    assert len(recipients) == len(set(recipients)), "someone was told twice"
    assert set(recipients) == set(viewers), "someone was not told, or a stranger was"
    data = _json(told[0]["data"])
    assert data["received_count"] == MAX_ITEMS_PER_WISHLIST
    assert data["received_titles"] == titles[:REVEALED_SAMPLE_MAX]
    assert await dead_letters(platform, QUEUE) == 0


def _json(value: Any) -> Any:
    # asyncpg hands JSONB over as its text unless told otherwise.
    return json.loads(value) if isinstance(value, str) else value
