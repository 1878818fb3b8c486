"""A fan-out writes each notification and its push once, in a constant number of statements,
and events with overlapping recipients, handled side by side, keep per-user order without
deadlocking.

The handler runs in this process against a migrated database (no broker: what
is tested is the transaction the consumer runs for each delivery).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.db import notifications as notification_rows
from notifier.domain import notifications as rules
from notifier.events.consumers import Consumers
from notifier.events.push import push_key
from notifier.settings import Settings
from wishlist_shared.db import engine as db
from wishlist_shared.events import Envelope, ItemReserved, WishlistRef
from wishlist_shared.outbox import CORRELATION_HEADER
from wishlist_shared.testing import snapshots
from wishlist_shared.testing.plugin import MakeDatabase

FAN_OUT = 1000


@pytest.fixture
async def engine(make_database: MakeDatabase) -> AsyncIterator[AsyncEngine]:
    database = await make_database(["notifier"])
    created = db.create_engine(database.urls["notifier"], "notifier", pool_size=4)
    yield created
    await created.dispose()


@pytest.fixture
def consumers(engine: AsyncEngine) -> Consumers:
    return Consumers(db.session_factory(engine), Settings(smtp_host=""))


@contextmanager
def statements_on(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent on ``engine`` inside the block (BEGIN and COMMIT are not)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def reserved(recipients: list[uuid.UUID]) -> Envelope[ItemReserved]:
    owner = uuid.uuid4()
    return Envelope.wrap(
        ItemReserved(
            wishlist=WishlistRef(
                id=uuid.uuid4(),
                title="Birthday",
                owner_id=owner,
                owner_display_name="Olga",
                occasion_date=None,
            ),
            item=snapshots.item_snapshot(),
            reserved_quantity=1,
            recipient_ids=tuple(recipients),
        )
    )


async def handle(consumers: Consumers, envelope: Envelope[ItemReserved]) -> None:
    await consumers.notify("item_reserved", envelope, rules.item_reserved(envelope.payload))


async def test_the_push_key_prefix_is_that_of_push_key() -> None:
    user = uuid.uuid4()
    assert notification_rows.PUSH_KEY_PREFIX + str(user) == push_key(user)


async def test_a_fan_out_writes_every_notification_and_push_once_in_a_few_statements(
    engine: AsyncEngine, consumers: Consumers
) -> None:
    one = reserved([uuid.uuid4()])
    many = reserved([uuid.uuid4() for _ in range(FAN_OUT)])
    with statements_on(engine) as for_one:
        await handle(consumers, one)
    with statements_on(engine) as for_many:
        await handle(consumers, many)
    # Claim with the locks, deleted users, the notifications with their pushes.
    assert len(for_one) == 3, for_one
    assert len(for_many) == len(for_one), for_many
    # A redelivery adds nothing, and stops at the claim.
    with statements_on(engine) as again:
        await handle(consumers, many)
    assert len(again) == 1

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT n.id, n.recipient_id, n.kind, n.created_at, n.data,"
                    " o.routing_key, o.body, o.headers"
                    " FROM notifier.notifications n"
                    " JOIN notifier.outbox o ON o.event_id = n.id"
                    " WHERE n.event_id = :event"
                ),
                {"event": many.id},
            )
        ).all()
        pushes = await conn.scalar(text("SELECT count(*) FROM notifier.outbox"))
    assert sorted(r.recipient_id for r in rows) == sorted(many.payload.recipient_ids)
    assert pushes == FAN_OUT + 1
    for row in rows:
        assert row.routing_key == push_key(row.recipient_id)
        assert row.headers == {CORRELATION_HEADER: many.correlation_id}
        # The push is the notification as REST shows it.
        assert row.body == {
            "type": "notification",
            "notification": {
                "id": str(row.id),
                "kind": "item_reserved",
                "created_at": row.body["notification"]["created_at"],
                "read": False,
                "data": row.data,
            },
        }
        assert rules.Notification.model_validate(row.body["notification"]).created_at == (
            row.created_at
        )


async def test_with_email_on_who_wants_what_mailed_is_read_with_the_deleted_users(
    engine: AsyncEngine,
) -> None:
    mailing = Consumers(db.session_factory(engine), Settings(smtp_host="127.0.0.1"))
    now_mailed, in_digest, not_mailed, deleted = (uuid.uuid4() for _ in range(4))
    async with engine.begin() as conn:
        for user, delivery in ((now_mailed, "immediate"), (in_digest, "daily")):
            await conn.execute(
                text(
                    "INSERT INTO notifier.users (user_id, email, display_name, as_of)"
                    " VALUES (:u, :e, 'V', now());"
                ),
                {"u": user, "e": f"{user}@example.com"},
            )
            await conn.execute(
                text(
                    "INSERT INTO notifier.email_preferences (user_id, kinds, delivery)"
                    " VALUES (:u, ARRAY['item_reserved'], :d)"
                ),
                {"u": user, "d": delivery},
            )
        await conn.execute(
            text("INSERT INTO notifier.deleted_users (user_id) VALUES (:u)"), {"u": deleted}
        )
    envelope = reserved([now_mailed, in_digest, not_mailed, deleted])
    with statements_on(engine) as sent:
        await handle(mailing, envelope)
    # The three of any event, then one email queued and one digest entry.
    assert len(sent) == 5, sent
    async with engine.connect() as conn:
        told = set(
            await conn.scalars(
                text("SELECT recipient_id FROM notifier.notifications WHERE event_id = :e"),
                {"e": envelope.id},
            )
        )
        mailed = (
            await conn.execute(text("SELECT user_id, to_address FROM notifier.email_deliveries"))
        ).all()
        digested = list(await conn.scalars(text("SELECT user_id FROM notifier.digest_entries")))
    assert told == {now_mailed, in_digest, not_mailed}
    assert mailed == [(now_mailed, f"{now_mailed}@example.com")]
    assert digested == [in_digest]


async def test_overlapping_events_side_by_side_keep_per_user_order_without_deadlock(
    engine: AsyncEngine, consumers: Consumers
) -> None:
    users = [uuid.uuid4() for _ in range(30)]
    shuffled = random.Random(18)
    # Each event to a different overlapping subset, in a different order.
    events = [reserved(shuffled.sample(users, 20)) for _ in range(40)]
    await asyncio.wait_for(asyncio.gather(*(handle(consumers, e) for e in events)), timeout=60)

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT n.recipient_id, n.seq, o.id AS push"
                    " FROM notifier.notifications n"
                    " JOIN notifier.outbox o ON o.event_id = n.id"
                )
            )
        ).all()
    assert len(rows) == 40 * 20
    for user in users:
        mine = [r for r in rows if r.recipient_id == user]
        # Pushes go out in outbox id order: for one user, that is seq order.
        assert sorted(mine, key=lambda r: r.seq) == sorted(mine, key=lambda r: r.push)


async def test_events_arriving_together_share_transactions_and_each_is_written_once(
    engine: AsyncEngine, consumers: Consumers
) -> None:
    users = [uuid.uuid4() for _ in range(5)]
    events = [reserved(users[: 1 + n % 5]) for n in range(40)]
    # One delivered twice at once (a redelivery racing the first copy).
    twice = [*events, events[7]]
    with statements_on(engine) as sent:
        await asyncio.wait_for(asyncio.gather(*(handle(consumers, e) for e in twice)), timeout=60)
    claims = [s for s in sent if "INSERT INTO notifier.inbox" in s]
    assert len(claims) < len(events) / 2, f"{len(claims)} transactions for {len(events)} events"

    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT event_id, recipient_id FROM notifier.notifications"))
        ).all()
    assert sorted(rows) == sorted((e.id, r) for e in events for r in e.payload.recipient_ids)
