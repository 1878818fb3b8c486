"""Queries on notifications: creating them with their pushes, pages, read state, erasure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, bindparam, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.db.tables import deleted_users, notifications, outbox
from notifier.domain.notifications import Notification, Planned
from notifier.domain.pagination import Direction
from notifier.events.push import push_key
from wishlist_shared.outbox import CORRELATION_HEADER, PENDING, notify_channel

n = notifications.c

_NO_USER = uuid.UUID(int=0)
# What push_key() puts before a user's id, for the database to build the keys
# of a whole fan-out (a unit test holds the two to the same keys).
PUSH_KEY_PREFIX = push_key(_NO_USER).removesuffix(str(_NO_USER))


def _notification(
    id_: uuid.UUID, kind: str, created_at: datetime, read_at: datetime | None, data: object
) -> Notification:
    return Notification.model_validate(
        {
            "id": id_,
            "kind": kind,
            "created_at": created_at,
            "read": read_at is not None,
            "data": data,
        }
    )


async def deleted_among(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    rows = await session.scalars(
        select(deleted_users.c.user_id).where(deleted_users.c.user_id.in_(ids))
    )
    return set(rows)


_CREATE = text(
    f"""
WITH created AS (
    INSERT INTO {notifications.fullname}
        (id, event_id, recipient_id, kind, owner_id, data, created_at)
    SELECT gen_random_uuid(), :event_id, recipient_id, :kind, :owner_id, :data, :created_at
    FROM unnest(:recipients) WITH ORDINALITY AS planned (recipient_id, position)
    ORDER BY position
    -- The inbox already makes a redelivery skip; this makes it so even for
    -- a handler that forgot to claim.
    ON CONFLICT ON CONSTRAINT uq_notifications_event_recipient DO NOTHING
    RETURNING id, recipient_id, seq
), pushed AS (
    INSERT INTO {outbox.fullname} (event_id, routing_key, body, headers)
    SELECT id, :key_prefix || recipient_id::text,
           jsonb_set(:body, '{{notification,id}}', to_jsonb(id::text)), :headers
    FROM created
    ORDER BY seq
)
-- Wakes the push relay at commit: PostgreSQL sends one NOTIFY of a channel
-- and payload however often a transaction asks for it.
SELECT id, recipient_id, pg_notify(:channel, '') FROM created ORDER BY seq
"""  # noqa: S608 - the table names are ours, every value is bound
).bindparams(
    bindparam("event_id", type_=UUID(as_uuid=True)),
    bindparam("owner_id", type_=UUID(as_uuid=True)),
    bindparam("recipients", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("data", type_=JSONB),
    bindparam("body", type_=JSONB),
    bindparam("headers", type_=JSONB),
    bindparam("created_at", type_=DateTime(timezone=True)),
)


async def create(
    session: AsyncSession,
    event_id: uuid.UUID,
    planned: Planned,
    correlation_id: str,
    created_at: datetime,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Saves one notification per recipient not notified of ``event_id`` yet, and their pushes.

    Returns (recipient, notification id) of each one saved: the rest of each
    is ``planned``'s (no model per recipient, which a fan-out would pay for
    1,000 times over). One statement
    whatever the number of recipients: the notifications, a push each (the
    REST shape, its ``id`` filled in by the database), and the relay's wake-up.

    Call inside the transaction that claimed the event, holding
    :func:`notifier.db.locks.lock_users` for the recipients and the owner;
    ``created_at`` is the transaction's ``now()``
    (:func:`notifier.db.locks.claim_locking` returns it).
    """
    if not planned.recipients:
        return []
    # Every notification of the event is this one but for its id.
    template = Notification(
        id=_NO_USER, kind=planned.kind, created_at=created_at, read=False, data=planned.data
    )
    rows = await session.execute(
        _CREATE,
        {
            "event_id": event_id,
            "kind": planned.kind,
            "owner_id": planned.owner_id,
            "data": planned.data,
            "created_at": created_at,
            "recipients": list(planned.recipients),
            "key_prefix": PUSH_KEY_PREFIX,
            "body": template.message(),
            "headers": {CORRELATION_HEADER: correlation_id},
            "channel": notify_channel(outbox),
        },
    )
    return [(recipient, id_) for id_, recipient, _ in rows.all()]


async def seq_of(
    session: AsyncSession, recipient: uuid.UUID, notification_id: uuid.UUID
) -> int | None:
    """The ``seq`` of the recipient's notification, None when it is not theirs or not at all."""
    seq: int | None = await session.scalar(
        select(n.seq).where(n.id == notification_id, n.recipient_id == recipient)
    )
    return seq


async def page(
    session: AsyncSession,
    recipient: uuid.UUID,
    *,
    direction: Direction,
    beyond: int | None,
    unread_only: bool,
    fetch: int,
) -> list[tuple[int, Notification]]:
    """Up to ``fetch`` notifications of ``recipient`` strictly beyond ``seq`` ``beyond``."""
    query: Select[tuple[int, uuid.UUID, str, datetime, datetime | None, object]] = select(
        n.seq, n.id, n.kind, n.created_at, n.read_at, n.data
    ).where(n.recipient_id == recipient)
    if unread_only:
        query = query.where(n.read_at.is_(None))
    if direction == "newest_first":
        if beyond is not None:
            query = query.where(n.seq < beyond)
        query = query.order_by(n.seq.desc())
    else:
        if beyond is not None:
            query = query.where(n.seq > beyond)
        query = query.order_by(n.seq.asc())
    rows = (await session.execute(query.limit(fetch))).all()
    return [
        (row.seq, _notification(row.id, row.kind, row.created_at, row.read_at, row.data))
        for row in rows
    ]


async def every(session: AsyncSession, recipient: uuid.UUID, *, batch: int) -> list[Notification]:
    """Every notification of ``recipient``, oldest first, read ``batch`` rows at a time.

    Keyset pages on ``seq`` rather than one big result: each query stays as
    cheap as a page of the list, whatever the user has accumulated.
    """
    found: list[Notification] = []
    beyond: int | None = None
    while True:
        rows = await page(
            session,
            recipient,
            direction="oldest_first",
            beyond=beyond,
            unread_only=False,
            fetch=batch,
        )
        found.extend(notification for _, notification in rows)
        if len(rows) < batch:
            return found
        beyond = rows[-1][0]


async def unread_count(session: AsyncSession, recipient: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(n.recipient_id == recipient, n.read_at.is_(None))
    )
    return int(count or 0)


async def mark_read(
    session: AsyncSession, recipient: uuid.UUID, notification_id: uuid.UUID
) -> bool:
    """Marks it read (a second time changes nothing); False when it is not the recipient's."""
    found = await session.scalar(
        update(notifications)
        .where(n.id == notification_id, n.recipient_id == recipient)
        # Keeps the first time it was read.
        .values(read_at=func.coalesce(n.read_at, func.now()))
        .returning(n.id)
    )
    return found is not None


async def mark_all_read(session: AsyncSession, recipient: uuid.UUID) -> None:
    await session.execute(
        update(notifications)
        .where(n.recipient_id == recipient, n.read_at.is_(None))
        .values(read_at=func.now())
    )


async def forget_user(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Erases a deleted user: their notifications and pending pushes, their name in others'.

    The user is remembered as deleted so that an event still on its way
    neither notifies nor names them. Returns how many notifications went.
    """
    await session.execute(insert(deleted_users).values(user_id=user_id).on_conflict_do_nothing())
    removed = (
        await session.scalars(
            notifications.delete().where(n.recipient_id == user_id).returning(n.id)
        )
    ).all()
    await session.execute(
        outbox.delete().where(outbox.c.routing_key == push_key(user_id), outbox.c.state == PENDING)
    )
    # The owner's name is under "wishlist", or "group" for a group's
    # notification; create_missing false leaves a part without one as it is.
    await session.execute(
        update(notifications)
        .where(n.owner_id == user_id)
        .values(
            data=_nulled(_nulled(n.data, "wishlist,owner_display_name"), "group,owner_display_name")
        )
    )
    # A suggester is named in their suggestion's notifications. No index
    # serves this: erasures are rare, and the kind narrows what is rewritten.
    await session.execute(
        update(notifications)
        .where(n.kind == "item_suggested", n.data["suggested_by_id"].astext == str(user_id))
        .values(data=_nulled(n.data, "suggested_by_display_name"))
    )
    # Pushes not sent yet carry the names too (pending rows are few: the
    # partial index on them serves this).
    o = outbox.c
    data = o.body["notification"]["data"]
    for owner_part in ("wishlist", "group"):
        await session.execute(
            update(outbox)
            .where(o.state == PENDING, data[owner_part]["owner_id"].astext == str(user_id))
            .values(body=_nulled(o.body, f"notification,data,{owner_part},owner_display_name"))
        )
    await session.execute(
        update(outbox)
        .where(o.state == PENDING, data["suggested_by_id"].astext == str(user_id))
        .values(body=_nulled(o.body, "notification,data,suggested_by_display_name"))
    )
    return len(removed)


def _nulled(document: Any, path: str) -> Any:
    """``document`` with the value at ``path`` (keys, comma-separated) set to null, if there."""
    return func.jsonb_set(
        document,
        literal_column(f"'{{{path}}}'::text[]"),
        literal_column("'null'::jsonb"),
        literal_column("false"),
    )
