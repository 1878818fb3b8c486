"""The owner's items: ``/api/v1/wishlists/{id}/items``.

Every response here goes to the owner, so every item in it is disclosed to
:attr:`Audience.OWNER`: the answer to an edit looks the same whatever is
reserved. Lowering ``quantity`` below what is reserved is allowed for the same
reason (see :mod:`wishlists.domain.reservations`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from fastapi import APIRouter, Response, status

from wishlists.api.access import hold, reach
from wishlists.api.deps import Claims, DbSession
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import ItemCreate, ItemOut, ItemPatch, item_out
from wishlists.db import items as item_rows
from wishlists.db import locks, scope
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.domain.access import require_owner
from wishlists.domain.errors import InvalidInput, ItemNotFound, LimitReached
from wishlists.domain.limits import MAX_ITEMS_PER_WISHLIST
from wishlists.domain.surprise import Audience, disclose
from wishlists.domain.validation import price_problems
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["items"])


@router.post("/{wishlist_id}/items", status_code=status.HTTP_201_CREATED)
async def add_item(
    wishlist_id: uuid.UUID, body: ItemCreate, claims: Claims, db: DbSession
) -> ItemOut:
    """Adds an item; the list's viewers are told."""
    if problems := price_problems(body.price, body.currency):
        raise InvalidInput(problems)
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        # Locked: the count stays true until the insert, and nobody joins
        # between reading the viewers and telling them.
        await hold(db, wishlist_id)
        if await item_rows.count(db, wishlist_id) >= MAX_ITEMS_PER_WISHLIST:
            raise LimitReached("items per wishlist", MAX_ITEMS_PER_WISHLIST)
        item = await item_rows.add(db, reached.wishlist, body.model_dump())
        viewers = await share_rows.viewer_ids(db, wishlist_id)
        await publishing.item_added(db, reached.wishlist, item, viewers)
    return item_out(disclose(item, Audience.OWNER))


@router.patch("/{wishlist_id}/items/{item_id}")
async def update_item(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, body: ItemPatch, claims: Claims, db: DbSession
) -> ItemOut:
    """Changes the fields sent; the list's viewers are told."""
    changes = body.changes()
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        item = await item_rows.get(db, wishlist_id, item_id)
        if item is None:
            raise ItemNotFound()
        if not changes:
            return item_out(disclose(item, Audience.OWNER))
        merged = replace(item, **changes)
        if problems := price_problems(merged.price, merged.currency):
            raise InvalidInput(problems)
        await hold(db, wishlist_id)
        changed = await item_rows.change(db, wishlist_id, item_id, changes)
        if changed is None:  # deleted by a concurrent request meanwhile
            raise ItemNotFound()
        viewers = await share_rows.viewer_ids(db, wishlist_id)
        await publishing.item_updated(db, reached.wishlist, changed, viewers)
    return item_out(disclose(changed, Audience.OWNER))


@router.delete("/{wishlist_id}/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """Deletes the item and its reservations; viewers who had reserved it are told.

    The answer is the same 204 whether or not anything was reserved.
    """
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        await hold(db, wishlist_id)
        # No reservation may come or go between reading the reservers and the delete.
        await locks.lock_item_reservations(db, item_id)
        async with scope.elevated(db):
            # Who to tell only; the owner's answer does not depend on it.
            reservers = await reservation_rows.reserver_ids(db, item_id)
        item = await item_rows.remove(db, wishlist_id, item_id)
        if item is None:
            raise ItemNotFound()
        viewers = await share_rows.viewer_ids(db, wishlist_id)
        await publishing.item_deleted(
            db, reached.wishlist, item, viewers=viewers, reservers=reservers
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
