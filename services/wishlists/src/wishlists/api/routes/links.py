"""A shared link, seen by anyone and joined by a signed-in user: ``/api/v1/shared/{token}``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.api.deps import Claims, DbSession
from wishlists.api.routes import SHARED
from wishlists.api.schemas import WishlistDetailOut
from wishlists.db import items as item_rows
from wishlists.db import reservations as reservation_rows
from wishlists.db import scope
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain import links
from wishlists.domain.access import Role
from wishlists.domain.errors import LimitReached, LinkNotFound
from wishlists.domain.limits import MAX_SHARES_PER_WISHLIST
from wishlists.domain.surprise import Audience, audience_of, disclose
from wishlists.events import publishing

router = APIRouter(prefix=SHARED, tags=["links"])


async def _check_room(db: AsyncSession, wishlist_id: uuid.UUID, caller: uuid.UUID) -> None:
    """:class:`LimitReached` when the list has all the viewers it may have and the caller is new.

    Elevated: the caller sees no share but their own, and the count and the
    lock are the owner's business, not an answer to the caller.
    """
    async with scope.elevated(db):
        if not await wishlist_rows.lock(db, wishlist_id):
            raise LinkNotFound()
        full = await share_rows.count(db, wishlist_id) >= MAX_SHARES_PER_WISHLIST
        if full and not await share_rows.is_viewer(db, wishlist_id, caller):
            raise LimitReached("shares per wishlist", MAX_SHARES_PER_WISHLIST)


@router.get("/{token}")
async def read_shared(token: str, db: DbSession) -> WishlistDetailOut:
    """The list and its items, read-only, without login and without any reservation detail."""
    if not links.plausible(token):
        raise LinkNotFound()
    async with scope.for_link(db, links.token_hash(token)):
        wishlist = await wishlist_rows.by_link(db, links.token_hash(token))
        if wishlist is None:
            raise LinkNotFound()
        items = await item_rows.of_wishlist(db, wishlist.id)
    return WishlistDetailOut.of_views(wishlist, [disclose(item, Audience.ANYONE) for item in items])


@router.post("/{token}/join")
async def join_shared(token: str, claims: Claims, db: DbSession) -> WishlistDetailOut:
    """Makes the caller a viewer of the list (nothing changes for its owner or a viewer).

    Answers with the list as the caller now sees it.
    """
    if not links.plausible(token):
        raise LinkNotFound()
    caller = claims.subject
    async with scope.for_link(db, links.token_hash(token), caller):
        wishlist = await wishlist_rows.by_link(db, links.token_hash(token))
        if wishlist is None:
            raise LinkNotFound()
        role = Role.OWNER
        if wishlist.owner_id != caller:
            role = Role.VIEWER
            await _check_room(db, wishlist.id, caller)
            # A member of a group the list is shared with joins too (the link's
            # access outlasts the group's) but is told nothing new.
            seen = await share_rows.is_viewer(db, wishlist.id, caller)
            share, created = await share_rows.add(
                db, wishlist, via="link", email=None, viewer_id=caller
            )
            if created and not seen:
                await publishing.wishlist_shared(
                    db, wishlist, share_id=share.id, viewer_id=caller, via="link"
                )
        items = await item_rows.of_wishlist(db, wishlist.id)
        tallies = (
            await reservation_rows.tallies(db, wishlist.id, caller) if role is Role.VIEWER else {}
        )
    audience = audience_of(role)
    return WishlistDetailOut.of_views(
        wishlist, [disclose(item, audience, tallies.get(item.id)) for item in items]
    )
