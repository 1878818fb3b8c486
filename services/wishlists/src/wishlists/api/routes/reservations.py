"""Reservations: a viewer's claim on units of an item, and the caller's shopping list.

Routes under ``/api/v1/wishlists/{id}/items/{item_id}/reservations`` reserve
and cancel; ``/api/v1/reservations`` is the caller's own list of what they
reserved. The owner of a list gets 403 on its reservation routes whatever the
item's state, and finds no reservation id of their list anywhere (404).

Never oversold: a reservation takes the item's advisory lock, then counts what
is reserved and inserts in the same transaction, so concurrent reservers of
one item queue up and each sees the ones before it. One lock per transaction,
so no two transactions can wait for each other.

A reservation is six statements inside its transaction: the caller's
settings, the list's sighting with the item's lock, the item with what is
reserved of it, the other viewers (three, elevated), and the insert with its
events and the relay's wake-up.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.api.access import reach
from wishlists.api.deps import Claims, DbSession, PageParams
from wishlists.api.routes import RESERVATIONS, WISHLISTS
from wishlists.api.schemas import (
    ReservationCreate,
    ReservationOut,
    ReservationPage,
    ReservationPatch,
)
from wishlists.db import items as item_rows
from wishlists.db import locks, scope
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.domain.access import require_viewer
from wishlists.domain.errors import (
    AlreadyReserved,
    ItemNotFound,
    ItemReceived,
    NoReservationOfYours,
    ReservationNotFound,
)
from wishlists.domain.model import ShoppingEntry
from wishlists.domain.reservations import check_fits
from wishlists.domain.surprise import Audience, disclose
from wishlists.events import publishing

items_router = APIRouter(prefix=WISHLISTS, tags=["reservations"])
mine_router = APIRouter(prefix=RESERVATIONS, tags=["reservations"])


def _out(entry: ShoppingEntry) -> ReservationOut:
    # The reserver is a viewer, but this answer is about their reservation,
    # not the item's others: the item comes without reservation facts.
    return ReservationOut.of(entry, disclose(entry.item, Audience.ANYONE))


async def _other_viewers(db: AsyncSession, wishlist_id: uuid.UUID) -> list[uuid.UUID]:
    # Elevated: a viewer sees only their own share, and the others are whom
    # the event is for; the list goes into the event, never into the answer.
    async with scope.elevated(db):
        return await share_rows.viewer_ids(db, wishlist_id)


@items_router.post(
    "/{wishlist_id}/items/{item_id}/reservations", status_code=status.HTTP_201_CREATED
)
async def reserve(
    wishlist_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ReservationCreate,
    claims: Claims,
    db: DbSession,
) -> ReservationOut:
    """Reserves ``quantity`` units; 409 when fewer are left, the caller already holds some,
    or the item was received. ``show_name``: whether the other viewers see the caller's name.
    """
    me = claims.subject
    async with scope.for_user(db, me):
        # The item's lock is taken with the list's sighting (only if the caller
        # reaches the list), before the item is read: an item deleted meanwhile
        # is not found, and the reservations counted next are all there are.
        reached = await reach(db, wishlist_id, me, locks.item_reservations(item_id))
        require_viewer(reached.role)
        found = await reservation_rows.item_with_standing(db, wishlist_id, item_id, me)
        if found is None:
            raise ItemNotFound()
        item, standing = found
        if item.received_at is not None:
            raise ItemReceived()
        if standing.mine:
            raise AlreadyReserved()
        reserved = standing.reserved
        check_fits(item.quantity, reserved, body.quantity)
        events = publishing.item_reserved(
            reached.wishlist,
            item,
            reserved=reserved + body.quantity,
            viewers=await _other_viewers(db, wishlist_id),
            reserver_id=me,
        )
        try:
            created = await reservation_rows.add(
                db, item, me, body.quantity, show_name=body.show_name, events=events
            )
        except reservation_rows.ItemGone as exc:
            raise ItemNotFound() from exc
        if created is None:
            # Raised inside the transaction: it rolls back the events saved with it.
            raise AlreadyReserved()
    # All read in this transaction already: the caller is a viewer, the item
    # was read under its lock, the reservation is the row just inserted.
    return _out(ShoppingEntry(created, item, reached.wishlist))


@items_router.delete(
    "/{wishlist_id}/items/{item_id}/reservations/mine", status_code=status.HTTP_204_NO_CONTENT
)
async def cancel_mine(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """Cancels the caller's reservation of the item; the other viewers are told."""
    me = claims.subject
    async with scope.for_user(db, me):
        # Locked with the sighting, before the item is read: see reserve.
        reached = await reach(db, wishlist_id, me, locks.item_reservations(item_id))
        require_viewer(reached.role)
        item = await item_rows.get(db, wishlist_id, item_id)
        if item is None:
            raise ItemNotFound()
        if not await reservation_rows.remove_mine(db, item_id, me):
            raise NoReservationOfYours()
        await publishing.reservation_cancelled(
            db,
            reached.wishlist,
            item,
            reserved=await reservation_rows.reserved_on(db, item_id),
            viewers=await _other_viewers(db, wishlist_id),
            reserver_id=me,
            reason="cancelled",
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@mine_router.get("")
async def my_reservations(claims: Claims, db: DbSession, page: PageParams) -> ReservationPage:
    """The caller's shopping list, newest first: reservations on lists they still view."""
    async with scope.for_user(db, claims.subject):
        found = await reservation_rows.page_of_reserver(db, claims.subject, page)
    return ReservationPage(items=[_out(e) for e in found.items], next_cursor=found.next_cursor)


@mine_router.patch("/{reservation_id}")
async def mark_purchased(
    reservation_id: uuid.UUID, body: ReservationPatch, claims: Claims, db: DbSession
) -> ReservationOut:
    """Marks the reservation bought (or not), shows or hides the reserver's name to the
    other viewers; only its reserver finds it."""
    me = claims.subject
    async with scope.for_user(db, me):
        if await reservation_rows.entry(db, reservation_id, me) is None:
            raise ReservationNotFound()
        await reservation_rows.change(db, reservation_id, me, body.changes())
        entry = await reservation_rows.entry(db, reservation_id, me)
    assert entry is not None
    return _out(entry)
