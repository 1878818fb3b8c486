"""Viewers' suggestions for someone else's list: ``/api/v1/wishlists/{id}/suggestions``.

A suggestion is an item of the list that its owner cannot see until they
reveal the list: row-level security hides it from every owner's query, the
answers here go to viewers only, and its events name viewers only. Other
viewers see it with who suggested it and may reserve it like any item.

The list's row is locked elevated (a viewer may not lock the owner's row
otherwise) so that the item count and the viewers told stay as read, as the
owner's own item routes do.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.api.access import Reached, hold, reach
from wishlists.api.deps import Claims, DbSession
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import ItemCreate, ItemPatch, ViewerItemOut, item_out
from wishlists.db import items as item_rows
from wishlists.db import locks, scope
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.domain.access import require_suggester
from wishlists.domain.errors import InvalidInput, ItemNotFound, LimitReached, NotYourSuggestion
from wishlists.domain.limits import MAX_ITEMS_PER_WISHLIST
from wishlists.domain.model import Item, Tally
from wishlists.domain.surprise import Audience, disclose
from wishlists.domain.validation import price_problems
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["suggestions"])


async def _held_viewers(db: AsyncSession, wishlist_id: uuid.UUID) -> list[uuid.UUID]:
    """Locks the list and reads its viewers: whom the event is for, never an answer."""
    async with scope.elevated(db):
        await hold(db, wishlist_id)
        return await share_rows.viewer_ids(db, wishlist_id)


async def _own_suggestion(
    db: AsyncSession, reached: Reached, item_id: uuid.UUID, caller: uuid.UUID
) -> Item:
    item = await item_rows.get(db, reached.wishlist.id, item_id)
    if item is None or not item.suggestion or item.received_at is not None:
        raise ItemNotFound()
    if item.suggested_by != caller or item.revealed_at is not None:
        raise NotYourSuggestion()
    return item


def _viewer_out(item: Item, tally: Tally | None = None) -> ViewerItemOut:
    out = item_out(disclose(item, Audience.VIEWER, tally))
    assert isinstance(out, ViewerItemOut)  # a viewer's view discloses reservation facts
    return out


@router.post("/{wishlist_id}/suggestions", status_code=status.HTTP_201_CREATED)
async def suggest_item(
    wishlist_id: uuid.UUID, body: ItemCreate, claims: Claims, db: DbSession
) -> ViewerItemOut:
    """Suggests an item for the list: the other viewers are told, its owner never is."""
    if problems := price_problems(body.price, body.currency):
        raise InvalidInput(problems)
    me = claims.subject
    async with scope.for_user(db, me):
        reached = await reach(db, wishlist_id, me)
        require_suggester(reached.role)
        viewers = await _held_viewers(db, wishlist_id)
        # The viewer counts the suggestions too: the limit is the list's.
        if await item_rows.count(db, wishlist_id) >= MAX_ITEMS_PER_WISHLIST:
            raise LimitReached("items per wishlist", MAX_ITEMS_PER_WISHLIST)
        item = await item_rows.add(db, reached.wishlist, body.model_dump(), suggested_by=me)
        suggester = item.suggester
        assert suggester is not None  # just suggested by the caller
        await publishing.item_suggested(
            db, reached.wishlist, item, viewers=viewers, suggester=suggester
        )
    return _viewer_out(item)


@router.patch("/{wishlist_id}/suggestions/{item_id}")
async def update_suggestion(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, body: ItemPatch, claims: Claims, db: DbSession
) -> ViewerItemOut:
    """Changes the caller's own suggestion; the other viewers are told."""
    me = claims.subject
    changes = body.changes()
    async with scope.for_user(db, me):
        reached = await reach(db, wishlist_id, me)
        require_suggester(reached.role)
        item = await _own_suggestion(db, reached, item_id, me)
        if changes:
            merged = replace(item, **changes)
            if problems := price_problems(merged.price, merged.currency):
                raise InvalidInput(problems)
            viewers = await _held_viewers(db, wishlist_id)
            changed = await item_rows.change(db, wishlist_id, item_id, changes)
            if changed is None:  # deleted by a concurrent request meanwhile
                raise ItemNotFound()
            item = changed
            await publishing.item_updated(db, reached.wishlist, item, viewers)
        tally = (await reservation_rows.tallies(db, wishlist_id, me)).get(item_id)
    return _viewer_out(item, tally)


@router.delete("/{wishlist_id}/suggestions/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_suggestion(
    wishlist_id: uuid.UUID, item_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """Deletes the caller's own suggestion; viewers who had reserved it are told."""
    me = claims.subject
    async with scope.for_user(db, me):
        reached = await reach(db, wishlist_id, me)
        require_suggester(reached.role)
        await _own_suggestion(db, reached, item_id, me)
        viewers = await _held_viewers(db, wishlist_id)
        # No reservation may come or go between reading the reservers and the delete.
        await locks.lock_item_reservations(db, item_id)
        async with scope.elevated(db):
            reservers = await reservation_rows.reserver_ids(db, item_id)
        item = await item_rows.remove(db, wishlist_id, item_id)
        if item is None:
            raise ItemNotFound()
        await publishing.item_deleted(
            db, reached.wishlist, item, viewers=viewers, reservers=reservers
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
