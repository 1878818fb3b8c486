"""Wishlists' part of the caller's data export: ``GET /api/v1/me/export``.

The gateway asks every service for the same path and puts the parts together
(see ``gateway.api.export``). Everything here is read in one transaction as
the caller, so row-level security decides what is theirs, and every item of
their own lists goes through :func:`disclose` for the owner: the export says
no more about reservations on their lists than their own pages do.

The per-user limits (``domain.limits``) bound the caller's own lists, their
items and shares; each kind is read in one query, not one per list.
"""

from __future__ import annotations

from fastapi import APIRouter

from wishlists.api.deps import Claims, DbSession
from wishlists.api.routes import ME
from wishlists.api.schemas import (
    ExportedReservation,
    ExportedSharedList,
    ExportedWishlist,
    WishlistsExport,
)
from wishlists.db import items as item_rows
from wishlists.db import reservations as reservation_rows
from wishlists.db import scope
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.surprise import Audience, disclose

router = APIRouter(prefix=ME, tags=["export"])


@router.get("/export")
async def export_mine(claims: Claims, db: DbSession) -> WishlistsExport:
    """The caller's lists (items and shares, nothing about reservations), their own
    reservations on others' lists, and the lists shared with them; oldest first."""
    me = claims.subject
    async with scope.for_user(db, me):
        own = await wishlist_rows.owned_by(db, me)
        ids = [w.id for w in own]
        items = await item_rows.of_wishlists(db, ids)
        shares = await share_rows.of_wishlists(db, ids)
        reservations = await reservation_rows.every_of_reserver(db, me)
        shared = await wishlist_rows.shared_with(db, me)
    return WishlistsExport(
        wishlists=[
            ExportedWishlist.of(
                w,
                [disclose(item, Audience.OWNER) for item in items.get(w.id, [])],
                shares.get(w.id, []),
            )
            for w in own
        ],
        reservations=[ExportedReservation.of(entry) for entry in reservations],
        shared_with_me=[ExportedSharedList.of(w) for w in shared],
    )
