"""Telling users about the access a group gave them, wherever it was given.

A member joins at once (the owner added a registered user) or when they
register (a pending invitation activates); a list is shared with a group.
Either way only who could not see a list before hears of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.db import groups as group_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.groups import Group, NewView
from wishlists.events import publishing


async def announce(session: AsyncSession, group: Group, views: Sequence[NewView]) -> None:
    """A ``wishlist_shared`` event to each new viewer; run elevated (the lists may be others')."""
    lists = await wishlist_rows.by_ids(session, sorted({v.wishlist_id for v in views}))
    for view in views:
        await publishing.wishlist_shared(
            session,
            lists[view.wishlist_id],
            share_id=view.share_id,
            viewer_id=view.viewer_id,
            via="group",
            group=group,
        )


async def member_joined(
    session: AsyncSession, group: Group, *, member_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Gives a new member the group's lists and tells them.

    Run elevated (or in the system scope) and under the group's lock: the
    rows of access are to others' lists.
    """
    await publishing.group_member_added(session, group, member_id=member_id, user_id=user_id)
    views = await group_rows.give_member_the_lists(session, group.id, user_id)
    await announce(session, group, views)
