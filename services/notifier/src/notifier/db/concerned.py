"""What a notifying handler must know of the users an event concerns, in one query.

Read after their locks are held (:mod:`notifier.db.locks`), so that an erasure
of any of them either committed already (and is seen here) or waits for the
handler's commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.db.emails import preferences_from_row
from notifier.db.tables import deleted_users, email_preferences, users
from notifier.domain.emails import EmailPreferences

# Statements written out once (a Core statement built per event costs more
# CPU to build and key for the cache than PostgreSQL spends running it).
_USER_IDS = bindparam("user_ids", type_=ARRAY(UUID(as_uuid=True)))
_DELETED = text(
    f"SELECT user_id FROM {deleted_users.fullname} WHERE user_id = ANY(:user_ids)"  # noqa: S608
).bindparams(_USER_IDS)
_DELETED_OR_MAILED = text(
    f"""
    SELECT given.user_id, deleted.user_id IS NOT NULL AS gone,
           wants.kinds, wants.delivery, mailed.email
    FROM unnest(:user_ids) AS given (user_id)
    LEFT JOIN {deleted_users.fullname} AS deleted ON deleted.user_id = given.user_id
    -- No kind chosen is the same as no preferences: nothing is mailed.
    LEFT JOIN {email_preferences.fullname} AS wants
        ON wants.user_id = given.user_id AND cardinality(wants.kinds) > 0
    LEFT JOIN {users.fullname} AS mailed ON mailed.user_id = given.user_id
    WHERE deleted.user_id IS NOT NULL OR wants.user_id IS NOT NULL
    """  # noqa: S608 - the table names are ours, every value is bound
).bindparams(_USER_IDS)


@dataclass(frozen=True)
class Concerned:
    gone: set[uuid.UUID]
    """Deleted users among them: never told, never named."""
    preferences: dict[uuid.UUID, EmailPreferences] = field(default_factory=dict)
    """Those who want some kind mailed (only looked up when email is on)."""
    addresses: dict[uuid.UUID, str] = field(default_factory=dict)
    """The address of each of those."""


async def look_up(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], *, email: bool
) -> Concerned:
    """Who of ``user_ids`` is deleted and, with ``email``, who wants what mailed and where."""
    ids = list(set(user_ids))
    if not ids:
        return Concerned(set())
    if not email:
        gone = await session.scalars(_DELETED, {"user_ids": ids})
        return Concerned(set(gone))
    concerned = Concerned(set())
    for row in await session.execute(_DELETED_OR_MAILED, {"user_ids": ids}):
        if row.gone:
            concerned.gone.add(row.user_id)
        if row.kinds is not None:
            concerned.preferences[row.user_id] = preferences_from_row(row.kinds, row.delivery)
            if row.email is not None:
                concerned.addresses[row.user_id] = row.email
    return concerned
