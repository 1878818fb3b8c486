"""Queries on items."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.db import Query
from wishlists.db.tables import ItemRecord, ReservationRecord, UserRecord
from wishlists.domain.model import Item, Wishlist
from wishlists.domain.pagination import Cursor, Page, PageRequest, page_of

I = ItemRecord  # noqa: E741 - reads as the table it stands for, like W and S elsewhere

_STORED = (
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
    I.suggestion,
    I.suggested_by,
    I.received_at,
    I.revealed_at,
)


def _columns(source: Any) -> tuple[Any, ...]:
    """An item's columns of ``source`` (the table, or a CTE of changed rows) with the
    suggester's name: a scalar subquery rather than a join, so that every query
    selecting items (some of which join users for the list's owner already)
    names its suggester alike."""
    c = source.c
    name = (
        select(UserRecord.display_name)
        .where(UserRecord.id == c.suggested_by)
        .correlate(source)
        .scalar_subquery()
    )
    return (*(c[col.key] for col in _STORED[:14]), name, c.received_at, c.revealed_at)


COLUMNS = _columns(I.__table__)


def _changed(statement: Any) -> Any:
    """An INSERT, UPDATE or DELETE of items answering with :data:`COLUMNS` of its rows
    (RETURNING cannot correlate the name's subquery; a CTE of the returned rows can)."""
    done = statement.returning(*_STORED).cte("done")
    return select(*_columns(done))


def to_item(row: Sequence[Any]) -> Item:
    values = list(row)
    price = values[4]
    # numeric without a declared scale comes back as the Decimal written.
    values[4] = Decimal(price) if price is not None else None
    return Item(*values)


def of_wishlist_query(wishlist_id: uuid.UUID) -> Query:
    return (
        select(*COLUMNS)
        .where(I.wishlist_id == wishlist_id, I.received_at.is_(None))
        .order_by(I.created_at, I.id)
    )


async def of_wishlist(session: AsyncSession, wishlist_id: uuid.UUID) -> list[Item]:
    """The items on the list (not the received ones, which are in its archive), in the
    order they were added (bounded by the per-list limit)."""
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
    """Items still on the list: received ones are archived and leave room."""
    return int(
        await session.scalar(
            select(func.count()).where(I.wishlist_id == wishlist_id, I.received_at.is_(None))
        )
        or 0
    )


async def get(session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID) -> Item | None:
    row = (
        await session.execute(select(*COLUMNS).where(I.id == item_id, I.wishlist_id == wishlist_id))
    ).one_or_none()
    return to_item(row) if row else None


async def add(
    session: AsyncSession,
    wishlist: Wishlist,
    fields: dict[str, Any],
    *,
    suggested_by: uuid.UUID | None = None,
) -> Item:
    """The new item; with ``suggested_by``, a viewer's suggestion, hidden from the owner."""
    suggestion = {"suggestion": True, "suggested_by": suggested_by} if suggested_by else {}
    row = (
        await session.execute(
            _changed(
                insert(I).values(
                    id=uuid.uuid4(),
                    wishlist_id=wishlist.id,
                    owner_id=wishlist.owner_id,
                    **fields,
                    **suggestion,
                )
            )
        )
    ).one()
    return to_item(row)


async def change(
    session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID, changes: dict[str, Any]
) -> Item | None:
    row = (
        await session.execute(
            _changed(
                update(I)
                .where(I.id == item_id, I.wishlist_id == wishlist_id)
                .values(**changes, updated_at=func.now())
            )
        )
    ).one_or_none()
    return to_item(row) if row else None


async def remove(session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID) -> Item | None:
    """Deletes the item (its reservations go with it); returns it as it was."""
    row = (
        await session.execute(
            _changed(delete(I).where(I.id == item_id, I.wishlist_id == wishlist_id))
        )
    ).one_or_none()
    return to_item(row) if row else None


async def mark_received(
    session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID
) -> Item | None:
    """Archives the item as received (once: a second call changes nothing)."""
    row = (
        await session.execute(
            _changed(
                update(I)
                .where(I.id == item_id, I.wishlist_id == wishlist_id)
                .values(received_at=func.coalesce(I.received_at, func.now()))
            )
        )
    ).one_or_none()
    return to_item(row) if row else None


def archive_query(wishlist_id: uuid.UUID, page: PageRequest) -> Query:
    query = select(*COLUMNS).where(I.wishlist_id == wishlist_id, I.received_at.is_not(None))
    if page.after is not None:
        query = query.where(tuple_(I.received_at, I.id) < (page.after.at, page.after.id))
    return query.order_by(I.received_at.desc(), I.id.desc()).limit(page.fetch)


async def archive_page(
    session: AsyncSession, wishlist_id: uuid.UUID, page: PageRequest
) -> Page[Item]:
    """The list's received items, the most recently received first."""
    rows = (await session.execute(archive_query(wishlist_id, page))).all()
    items = [to_item(r) for r in rows]
    return page_of(items, page, lambda i: Cursor(i.received_at or i.created_at, i.id))


async def forget_suggester(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A deleted account's suggestions stay (others may have reserved them), nameless."""
    await session.execute(update(I).where(I.suggested_by == user_id).values(suggested_by=None))


# --- a reveal ------------------------------------------------------------------


async def reveal_reserved(session: AsyncSession, wishlist_id: uuid.UUID) -> None:
    """Archives every item of the list with a reservation not yet revealed, and stamps
    it and those reservations revealed. Run elevated: it reads reservations.
    """
    R = ReservationRecord  # noqa: N806 - reads as the table it stands for
    reserved = (
        select(R.item_id).where(R.wishlist_id == wishlist_id, R.revealed_at.is_(None)).distinct()
    )
    revealed = list(
        (
            await session.scalars(
                update(I)
                .where(I.wishlist_id == wishlist_id, I.id.in_(reserved))
                .values(
                    received_at=func.coalesce(I.received_at, func.now()), revealed_at=func.now()
                )
                .returning(I.id)
            )
        ).all()
    )
    if revealed:
        await session.execute(
            update(R)
            .where(R.item_id.in_(revealed), R.revealed_at.is_(None))
            .values(revealed_at=func.now())
        )


async def reveal_suggestions(session: AsyncSession, wishlist_id: uuid.UUID) -> None:
    """Uncovers the suggestions not yet revealed: they become items of the owner's list.
    Run elevated: the owner cannot see them until this is done."""
    await session.execute(
        update(I)
        .where(I.wishlist_id == wishlist_id, I.suggestion, I.revealed_at.is_(None))
        .values(revealed_at=func.now())
    )


async def revealed_now(session: AsyncSession, wishlist_id: uuid.UUID) -> list[Item]:
    """The items this transaction's reveal uncovered (``now()`` is the transaction's time)."""
    rows = (
        await session.execute(
            select(*COLUMNS)
            .where(I.wishlist_id == wishlist_id, I.revealed_at == func.now())
            .order_by(I.created_at, I.id)
        )
    ).all()
    return [to_item(r) for r in rows]


async def ids_of(session: AsyncSession, wishlist_id: uuid.UUID) -> list[uuid.UUID]:
    """Every item id of the list, in a stable order (for taking their locks)."""
    return list(
        (
            await session.scalars(select(I.id).where(I.wishlist_id == wishlist_id).order_by(I.id))
        ).all()
    )
