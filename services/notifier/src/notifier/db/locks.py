"""The per-user advisory locks, and the inbox claim that takes them in the same round trip.

Everything that writes a user's notifications, or erases the user, holds the
user's transaction-level lock first: two events for one recipient then commit
in the order of their ``seq`` (a client that has seen notification N has seen
everything before it, and ``?after=`` never skips a late commit), and an
erasure cannot interleave with a notification being written for (or naming)
the user it erases.

All of a transaction's locks are taken by one statement, in the order of their
keys: every locker goes the same way round, so two transactions with
overlapping users never wait on each other in a cycle.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Table, Text, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

# A subquery with ORDER BY is never merged into the outer query, so the
# locks are taken row by row in key order (duplicate keys once: a hash may
# be shared by two users, and one lock then stands for both).
_LOCKED = """
SELECT count(pg_advisory_xact_lock(k)) FROM (
    SELECT DISTINCT hashtextextended('notifier:' || u::text, 0) AS k
    FROM unnest(:user_ids) AS u
    ORDER BY k
) AS keys
"""

_USERS = bindparam("user_ids", type_=ARRAY(UUID(as_uuid=True)))
_LOCK_USERS = text(_LOCKED).bindparams(_USERS)


async def lock_users(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> None:
    """Holds each user's lock until the transaction ends (one statement, see the module)."""
    ids = list(set(user_ids))
    if ids:
        await session.execute(_LOCK_USERS, {"user_ids": ids})


@functools.cache
def _claim_statement(inbox: Table) -> TextClause:
    # Built once per table: a statement built per event costs more CPU than
    # PostgreSQL spends running it.
    return text(
        f"""
        WITH claimed AS (
            INSERT INTO {inbox.fullname} (consumer, event_id) VALUES (:consumer, :event_id)
            ON CONFLICT (consumer, event_id) DO NOTHING
            RETURNING event_id
        )
        SELECT now() AS at, ({_LOCKED}) AS locks FROM claimed
        """  # noqa: S608 - the table name is ours, every value is bound
    ).bindparams(_USERS, bindparam("event_id", type_=UUID(as_uuid=True)))


async def claim_locking(
    session: AsyncSession,
    inbox: Table,
    consumer: str,
    event_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
) -> datetime | None:
    """Claims ``event_id`` for ``consumer`` in the inbox and, if that succeeded, locks the users.

    Returns the transaction's start (``now()``, what a column defaulting to
    ``now()`` gets in it), or None when the event was handled already: then no
    lock is taken. One round trip for what :func:`wishlist_shared.inbox.claim`
    and :func:`lock_users` do in two, with the same effect and order: the claim
    is made first (the locks are taken per row of its result), so a replica
    handling the same event waits on the inbox row holding no user's lock.
    """
    row = (
        await session.execute(
            _claim_statement(inbox),
            {"consumer": consumer, "event_id": event_id, "user_ids": list(set(user_ids))},
        )
    ).first()
    if row is None:
        return None
    at: datetime = row.at
    return at


@functools.cache
def _claim_many_statement(inbox: Table) -> TextClause:
    # Rows go in in one order, (event, consumer), whoever inserts them: two
    # replicas claiming overlapping events never wait on each other's rows in
    # a cycle.
    return text(
        f"""
        WITH claimed AS (
            INSERT INTO {inbox.fullname} (consumer, event_id)
            SELECT consumer, event_id FROM unnest(:consumers, :event_ids) AS c (consumer, event_id)
            ORDER BY event_id, consumer
            ON CONFLICT (consumer, event_id) DO NOTHING
            RETURNING consumer, event_id
        )
        SELECT consumer, event_id, now() AS at, ({_LOCKED}) AS locks FROM claimed
        """  # noqa: S608 - the table name is ours, every value is bound
    ).bindparams(
        _USERS,
        bindparam("consumers", type_=ARRAY(Text())),
        bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))),
    )


async def claim_many_locking(
    session: AsyncSession,
    inbox: Table,
    claims: Sequence[tuple[str, uuid.UUID]],
    user_ids: Iterable[uuid.UUID],
) -> tuple[datetime, set[tuple[str, uuid.UUID]]] | None:
    """:func:`claim_locking` for several (consumer, event) pairs in one round trip.

    Returns the transaction's start and the pairs claimed now, or None when
    every one was handled already (then no lock is taken). The locks are those
    of every user in ``user_ids``, taken after the claims, in one go.
    """
    rows = (
        await session.execute(
            _claim_many_statement(inbox),
            {
                "consumers": [consumer for consumer, _ in claims],
                "event_ids": [event_id for _, event_id in claims],
                "user_ids": list(set(user_ids)),
            },
        )
    ).all()
    if not rows:
        return None
    at: datetime = rows[0].at
    return at, {(row.consumer, row.event_id) for row in rows}
