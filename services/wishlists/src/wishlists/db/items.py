"""Queries on items."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.db import Query
from wishlists.db.tables import ItemRecord
from wishlists.domain.model import Item, Wishlist

I = ItemRecord  # noqa: E741 - reads as the table it stands for, like W and S elsewhere

COLUMNS = (
    I.id,
    I.wishlist_id,
    I.title,
    I.url,
    I.price,
    I.currency,
    I.image_url,
    I.quantity,
    I.priority,
    I.notes,
    I.created_at,
    I.updated_at,
)


def to_item(row: Sequence[Any]) -> Item:
    values = list(row)
    price = values[4]
    # numeric without a declared scale comes back as the Decimal written.
    values[4] = Decimal(price) if price is not None else None
    return Item(*values)


def of_wishlist_query(wishlist_id: uuid.UUID) -> Query:
    return select(*COLUMNS).where(I.wishlist_id == wishlist_id).order_by(I.created_at, I.id)


async def of_wishlist(session: AsyncSession, wishlist_id: uuid.UUID) -> list[Item]:
    """Every item of the list, in the order they were added (bounded by the per-list limit)."""
    rows = (await session.execute(of_wishlist_query(wishlist_id))).all()
    return [to_item(r) for r in rows]


async def of_wishlists(
    session: AsyncSession, wishlist_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Item]]:
    """The items of several lists in one query, each list's in the order they were added."""
    if not wishlist_ids:
        return {}
    rows = (
        await session.execute(
            select(*COLUMNS)
            .where(I.wishlist_id.in_(wishlist_ids))
            .order_by(I.wishlist_id, I.created_at, I.id)
        )
    ).all()
    found: dict[uuid.UUID, list[Item]] = {}
    for row in rows:
        item = to_item(row)
        found.setdefault(item.wishlist_id, []).append(item)
    return found


async def count(session: AsyncSession, wishlist_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(I.wishlist_id == wishlist_id)) or 0)


async def get(session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID) -> Item | None:
    row = (
        await session.execute(select(*COLUMNS).where(I.id == item_id, I.wishlist_id == wishlist_id))
    ).one_or_none()
    return to_item(row) if row else None


async def add(session: AsyncSession, wishlist: Wishlist, fields: dict[str, Any]) -> Item:
    row = (
        await session.execute(
            insert(I)
            .values(id=uuid.uuid4(), wishlist_id=wishlist.id, owner_id=wishlist.owner_id, **fields)
            .returning(*COLUMNS)
        )
    ).one()
    return to_item(row)


async def change(
    session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID, changes: dict[str, Any]
) -> Item | None:
    row = (
        await session.execute(
            update(I)
            .where(I.id == item_id, I.wishlist_id == wishlist_id)
            .values(**changes, updated_at=func.now())
            .returning(*COLUMNS)
        )
    ).one_or_none()
    return to_item(row) if row else None


async def remove(session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID) -> Item | None:
    """Deletes the item (its reservations go with it); returns it as it was."""
    row = (
        await session.execute(
            delete(I).where(I.id == item_id, I.wishlist_id == wishlist_id).returning(*COLUMNS)
        )
    ).one_or_none()
    return to_item(row) if row else None
