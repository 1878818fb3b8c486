"""What a notifying handler must know of the users an event concerns, in one query.

Read after their locks are held (:mod:`notifier.db.locks`), so that an erasure
of any of them either committed already (and is seen here) or waits for the
handler's commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.db.emails import preferences_from_row
from notifier.db.tables import deleted_users, email_preferences, users
from notifier.domain.emails import EmailPreferences


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
    given = (
        func.unnest(literal(ids, ARRAY(UUID(as_uuid=True))))
        .table_valued("user_id")
        .render_derived(name="given")
    )
    if not email:
        gone = await session.scalars(
            select(deleted_users.c.user_id).join(given, given.c.user_id == deleted_users.c.user_id)
        )
        return Concerned(set(gone))
    d, p, u = deleted_users.c, email_preferences.c, users.c
    rows = await session.execute(
        select(given.c.user_id, d.user_id.is_not(None).label("gone"), p.kinds, p.delivery, u.email)
        .select_from(
            given.outerjoin(deleted_users, d.user_id == given.c.user_id)
            .outerjoin(
                email_preferences,
                and_(p.user_id == given.c.user_id, func.cardinality(p.kinds) > 0),
            )
            .outerjoin(users, u.user_id == given.c.user_id)
        )
        .where(d.user_id.is_not(None) | p.user_id.is_not(None))
    )
    concerned = Concerned(set())
    for row in rows:
        if row.gone:
            concerned.gone.add(row.user_id)
        if row.kinds is not None:
            concerned.preferences[row.user_id] = preferences_from_row(row.kinds, row.delivery)
            if row.email is not None:
                concerned.addresses[row.user_id] = row.email
    return concerned
