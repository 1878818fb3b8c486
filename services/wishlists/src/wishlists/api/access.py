"""The first step of every route on one list: find it as the caller and know their role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.db import reads
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.access import Role, require_sight, role_of
from wishlists.domain.errors import WishlistNotFound
from wishlists.domain.model import Item, Wishlist


@dataclass(frozen=True)
class Reached:
    wishlist: Wishlist
    role: Role


async def reach(db: AsyncSession, wishlist_id: uuid.UUID, caller: uuid.UUID, *also: Any) -> Reached:
    """The list and the caller's role on it; :class:`WishlistNotFound` if they have none.

    ``also``: expressions to run in the same statement, only if the list is
    found (a lock the route takes next anyway): one round trip fewer.
    """
    seen = await wishlist_rows.sighting(db, wishlist_id, caller, *also)
    if seen is None:
        raise WishlistNotFound()
    role = role_of(caller, seen.wishlist.owner_id, is_viewer=seen.is_viewer)
    require_sight(role)
    return Reached(seen.wishlist, role)


async def reach_with_items(
    connection: asyncpg.Connection, wishlist_id: uuid.UUID, caller: uuid.UUID
) -> tuple[Reached, list[Item]]:
    """:func:`reach` and the list's items (not the received ones) in one statement, on a
    connection of :func:`wishlists.db.scope.reading_for_user`."""
    found = await reads.sighting_with_items(connection, wishlist_id, caller)
    if found is None:
        raise WishlistNotFound()
    seen, items = found
    role = role_of(caller, seen.wishlist.owner_id, is_viewer=seen.is_viewer)
    require_sight(role)
    return Reached(seen.wishlist, role), items


async def hold(db: AsyncSession, wishlist_id: uuid.UUID) -> None:
    """Locks the list's row for the transaction; :class:`WishlistNotFound` if it went meanwhile."""
    if not await wishlist_rows.lock(db, wishlist_id):
        raise WishlistNotFound()
