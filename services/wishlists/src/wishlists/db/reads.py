"""The read of one list, run on the driver's connection (:mod:`wishlist_shared.db.driver`).

``GET /wishlists/{id}`` is the service's hottest request: the list with its
items, and for a viewer the reservation tallies. Its statements are built by
the query modules like every other and compiled here once; the transaction
comes from :func:`wishlists.db.scope.reading_for_user`.
"""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy import bindparam

from wishlist_shared.db.driver import Statement
from wishlists.db import items as item_rows
from wishlists.db import reservations as reservation_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.db.tables import ReservationRecord, WishlistRecord
from wishlists.db.wishlists import Sighting
from wishlists.domain.model import Item, NamedReservation, Person, Tally

_SIGHTING_WITH_ITEMS = Statement(
    wishlist_rows.sighting_with_items_query(
        bindparam("wishlist_id", type_=WishlistRecord.id.type),
        bindparam("caller", type_=WishlistRecord.id.type),
    )
)
_TALLIES = Statement(
    reservation_rows.tallies_query(
        bindparam("wishlist_id", type_=ReservationRecord.wishlist_id.type),
        bindparam("viewer_id", type_=ReservationRecord.id.type),
    )
)


async def sighting_with_items(
    connection: asyncpg.Connection, wishlist_id: uuid.UUID, caller: uuid.UUID
) -> tuple[Sighting, list[Item]] | None:
    """The list as the caller reaches it, with its items (not the received ones) in the
    order they were added: one statement instead of two."""
    rows = await _SIGHTING_WITH_ITEMS.fetch(connection, wishlist_id=wishlist_id, caller=caller)
    if not rows:
        return None
    first = rows[0]
    # The list's 9 columns and the viewer flag, then the item's.
    sighting = Sighting(wishlist_rows.to_wishlist(first[:9]), bool(first[9]))
    items = [item_rows.to_item(row[10:]) for row in rows if row[10] is not None]
    return sighting, items


async def tallies(
    connection: asyncpg.Connection, wishlist_id: uuid.UUID, viewer_id: uuid.UUID
) -> dict[uuid.UUID, Tally]:
    """:func:`wishlists.db.reservations.tallies` of the list, for its viewer."""
    rows = await _TALLIES.fetch(connection, wishlist_id=wishlist_id, viewer_id=viewer_id)
    return {row[0]: _tally(row) for row in rows}


def _tally(row: asyncpg.Record) -> Tally:
    _item, reserved, mine, named = row
    shown = tuple(
        NamedReservation(Person(uuid.UUID(user_id), name), int(quantity))
        for user_id, name, quantity in named or ()
    )
    return Tally(int(reserved), bool(mine), shown)
