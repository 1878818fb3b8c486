"""The caller's lists and the lists shared with them: ``/api/v1/wishlists``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from wishlists.api.access import hold, reach, reach_with_items
from wishlists.api.deps import Claims, DbSession, PageParams, RuntimeDep
from wishlists.api.responses import JsonModelResponse
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import (
    WishlistCreate,
    WishlistDetailOut,
    WishlistOut,
    WishlistPage,
    WishlistPatch,
)
from wishlists.db import locks, reads, scope
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.access import Role, require_owner
from wishlists.domain.errors import LimitReached
from wishlists.domain.limits import MAX_WISHLISTS_PER_OWNER
from wishlists.domain.surprise import audience_of, disclose
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["wishlists"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_wishlist(body: WishlistCreate, claims: Claims, db: DbSession) -> WishlistOut:
    async with scope.for_user(db, claims.subject):
        await locks.lock_owner(db, claims.subject)
        if await wishlist_rows.count_owned(db, claims.subject) >= MAX_WISHLISTS_PER_OWNER:
            raise LimitReached("wishlists per owner", MAX_WISHLISTS_PER_OWNER)
        wishlist = await wishlist_rows.create(
            db,
            claims.subject,
            title=body.title,
            description=body.description,
            occasion_date=body.occasion_date,
        )
    return WishlistOut.of(wishlist)


@router.get("")
async def list_own_wishlists(claims: Claims, db: DbSession, page: PageParams) -> WishlistPage:
    """The caller's own lists, newest first."""
    async with scope.for_user(db, claims.subject):
        found = await wishlist_rows.own_page(db, claims.subject, page)
    return WishlistPage(
        items=[WishlistOut.of(w) for w in found.items], next_cursor=found.next_cursor
    )


@router.get("/shared-with-me")
async def list_shared_with_me(claims: Claims, db: DbSession, page: PageParams) -> WishlistPage:
    """Lists others shared with the caller, the most recently shared first."""
    async with scope.for_user(db, claims.subject):
        found = await wishlist_rows.shared_page(db, claims.subject, page)
    return WishlistPage(
        items=[WishlistOut.of(w) for w in found.items], next_cursor=found.next_cursor
    )


@router.get("/{wishlist_id}", response_model=WishlistDetailOut)
async def read_wishlist(wishlist_id: uuid.UUID, claims: Claims, runtime: RuntimeDep) -> Response:
    """The list with its items (received ones are in its archive); viewers also see how
    much of each is reserved, and the suggestions (the owner only once revealed)."""
    # The service's hottest request: its statements run on asyncpg directly.
    async with scope.reading_for_user(runtime.engine, claims.subject) as connection:
        reached, items = await reach_with_items(connection, wishlist_id, claims.subject)
        # The owner's transaction could not read a reservation anyway
        # (row-level security); it does not ask.
        tallies = (
            await reads.tallies(connection, wishlist_id, claims.subject)
            if reached.role is Role.VIEWER
            else {}
        )
    audience = audience_of(reached.role)
    detail = WishlistDetailOut.of_views(
        reached.wishlist, [disclose(item, audience, tallies.get(item.id)) for item in items]
    )
    # Built and checked just above: serialised once, straight to bytes, not
    # validated again and re-encoded as FastAPI does with a returned model.
    return JsonModelResponse(detail)


@router.patch("/{wishlist_id}")
async def update_wishlist(
    wishlist_id: uuid.UUID, body: WishlistPatch, claims: Claims, db: DbSession
) -> WishlistOut:
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        changes = body.changes()
        wishlist = (
            await wishlist_rows.update_fields(db, wishlist_id, changes)
            if changes
            else reached.wishlist
        )
    return WishlistOut.of(wishlist)


@router.delete("/{wishlist_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_wishlist(wishlist_id: uuid.UUID, claims: Claims, db: DbSession) -> Response:
    """Deletes the list with its items, shares and reservations; its viewers are told."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        # Locked first: nobody joins between reading the viewers and the delete.
        await hold(db, wishlist_id)
        viewers = await share_rows.viewer_ids(db, wishlist_id)
        await publishing.wishlist_deleted(db, reached.wishlist, viewers=viewers, reason="deleted")
        await wishlist_rows.delete_wishlist(db, wishlist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
