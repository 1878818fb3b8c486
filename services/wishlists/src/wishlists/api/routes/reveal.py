"""After the occasion: the owner's reveal, items marked received, and the list's archive.

``POST /wishlists/{id}/reveal`` is the one moment the surprise rule lets go,
and only of what is there at that moment: the reservations then held and
the suggestions then made are stamped revealed, and row-level security lets
the owner read exactly those from then on. Stamping them needs the elevated
scope (the owner cannot see them before the stamp); reading them back for
the answer runs as the owner again, so the database, not this module,
decides what the owner gets.

``POST .../items/{item_id}/received`` archives one item at any time; the
owner's answer is the same whatever was reserved, and the reservers are told.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.api.access import hold, reach
from wishlists.api.deps import Claims, DbSession, PageParams
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import (
    ArchivePage,
    ItemOut,
    RevealedItemOut,
    RevealOut,
    RevealRequest,
    WishlistOut,
    item_out,
)
from wishlists.db import items as item_rows
from wishlists.db import locks, scope
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.access import Role, require_owner
from wishlists.domain.errors import ItemNotFound
from wishlists.domain.reveal import check_reveal
from wishlists.domain.surprise import Audience, disclose
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["reveal"])


async def _lock_items(db: AsyncSession, wishlist_id: uuid.UUID) -> None:
    # Every item's reservation lock, in id order: no reservation lands on an
    # item between the reveal reading it and archiving it. A reserver holds
    # one of these locks at most, so the order rules out a deadlock.
    async with scope.elevated(db):
        ids = await item_rows.ids_of(db, wishlist_id)
    for item_id in ids:
        await locks.lock_item_reservations(db, item_id)


@router.post("/{wishlist_id}/reveal")
async def reveal(
    wishlist_id: uuid.UUID, body: RevealRequest, claims: Claims, db: DbSession
) -> RevealOut:
    """Reveals the list: the owner sees who gave what and the suggestions; the reserved
    items are archived as received. Refused (409) before the occasion without ``early``.
    """
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        check_reveal(reached.wishlist.occasion_date, datetime.now(UTC).date(), early=body.early)
        await hold(db, wishlist_id)
        await _lock_items(db, wishlist_id)
        async with scope.elevated(db):
            await item_rows.reveal_reserved(db, wishlist_id)
            await item_rows.reveal_suggestions(db, wishlist_id)
            viewers = await share_rows.viewer_ids(db, wishlist_id)
        wishlist = await wishlist_rows.mark_revealed(
            db, wishlist_id, next_occasion=body.next_occasion_date
        )
        # As the owner again: what the policies now let them read.
        uncovered = await item_rows.revealed_now(db, wishlist_id)
        received = [i for i in uncovered if i.received_at is not None]
        gifts = await reservation_rows.gifts_on(db, [i.id for i in received])
        assert wishlist.revealed_at is not None
        await publishing.wishlist_revealed(
            db, wishlist, revealed_at=wishlist.revealed_at, received=received, viewers=viewers
        )
    return RevealOut(
        revealed_at=wishlist.revealed_at,
        wishlist=WishlistOut.of(wishlist),
        received=[
            RevealedItemOut.of(disclose(i, Audience.OWNER), gifts.get(i.id, [])) for i in received
        ],
        suggestions=[
            item_out(disclose(i, Audience.OWNER))
            for i in uncovered
            if i.suggestion and i.received_at is None
        ],
    )


@router.get("/{wishlist_id}/archive")
async def archive(
    wishlist_id: uuid.UUID, claims: Claims, db: DbSession, page: PageParams
) -> ArchivePage:
    """The list's received items, the most recently received first; the owner also sees
    who gave each, for what a reveal uncovered."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        found = await item_rows.archive_page(db, wishlist_id, page)
        if reached.role is not Role.OWNER:
            return ArchivePage(
                items=[item_out(disclose(i, Audience.ANYONE)) for i in found.items],
                next_cursor=found.next_cursor,
            )
        # Row-level security shows the owner revealed reservations only.
        gifts = await reservation_rows.gifts_on(db, [i.id for i in found.items])
    return ArchivePage(
        items=[
            RevealedItemOut.of(disclose(i, Audience.OWNER), gifts.get(i.id, []))
            for i in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.post("/{wishlist_id}/items/{item_id}/received")
async def mark_received(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, claims: Claims, db: DbSession
) -> ItemOut:
    """Archives the item as received; its reservers are told. The same answer whatever
    was reserved; marking it again changes nothing."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        await hold(db, wishlist_id)
        # No reservation may come or go between reading the reservers and the archive.
        await locks.lock_item_reservations(db, item_id)
        before = await item_rows.get(db, wishlist_id, item_id)
        if before is None:
            raise ItemNotFound()
        if before.received_at is not None:
            return item_out(disclose(before, Audience.OWNER))
        item = await item_rows.mark_received(db, wishlist_id, item_id)
        if item is None:
            raise ItemNotFound()
        async with scope.elevated(db):
            # Who to tell only; the owner's answer does not depend on it.
            reservers = await reservation_rows.reserver_ids(db, item_id)
            viewers = await share_rows.viewer_ids(db, wishlist_id)
        await publishing.item_received(
            db, reached.wishlist, item, viewers=viewers, reservers=reservers
        )
    return item_out(disclose(item, Audience.OWNER))
