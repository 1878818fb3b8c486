"""Queries on wishlists: one per use case, each returning domain records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from wishlists.db import Id, Query
from wishlists.db import items as item_rows
from wishlists.db.tables import ItemRecord, ShareRecord, UserRecord, WishlistRecord
from wishlists.domain.model import Wishlist
from wishlists.domain.pagination import Cursor, Page, PageRequest, page_of

W = WishlistRecord
# What INSERT/UPDATE ... RETURNING hands on to the select that adds the owner's name.
_RECORD = (
    W.id,
    W.owner_id,
    W.title,
    W.description,
    W.occasion_date,
    W.created_at,
    W.updated_at,
    W.revealed_at,
)


def columns(source: Any = W) -> tuple[Any, ...]:
    c = source.c if hasattr(source, "c") else source
    return (
        c.id,
        c.owner_id,
        UserRecord.display_name,
        c.title,
        c.description,
        c.occasion_date,
        c.created_at,
        c.updated_at,
        c.revealed_at,
    )


def to_wishlist(row: Sequence[Any]) -> Wishlist:
    return Wishlist(*row[:9])


@dataclass(frozen=True)
class Sighting:
    """A list as the caller reaches it, and whether they are one of its viewers."""

    wishlist: Wishlist
    is_viewer: bool


async def create(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    title: str,
    description: str | None,
    occasion_date: date | None,
    created_at: Any = None,
) -> Wishlist:
    """The new list; ``created_at`` (an SQL expression) orders lists made in one transaction."""
    stamps = {} if created_at is None else {"created_at": created_at, "updated_at": created_at}
    new = (
        insert(W)
        .values(
            id=uuid.uuid4(),
            owner_id=owner_id,
            title=title,
            description=description,
            occasion_date=occasion_date,
            **stamps,
        )
        .returning(*_RECORD)
        .cte("new")
    )
    row = (
        await session.execute(
            select(*columns(new)).outerjoin(UserRecord, UserRecord.id == new.c.owner_id)
        )
    ).one()
    return to_wishlist(row)


async def count_owned(session: AsyncSession, owner_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(W.owner_id == owner_id)) or 0)


def sighting_query(wishlist_id: Id, caller: Id, *also: Any) -> Query:
    """The list with the caller's viewer flag; ``also``: more columns, evaluated only if
    the caller can reach the list (row-level security leaves no row otherwise)."""
    is_viewer = exists().where(ShareRecord.wishlist_id == W.id, ShareRecord.viewer_id == caller)
    return (
        select(*columns(), is_viewer.label("is_viewer"), *also)
        .outerjoin(UserRecord, UserRecord.id == W.owner_id)
        .where(W.id == wishlist_id)
    )


async def sighting(
    session: AsyncSession, wishlist_id: uuid.UUID, caller: uuid.UUID, *also: Any
) -> Sighting | None:
    """The list if the caller can reach it at all (row-level security filters the rest).

    ``also``: expressions run in the same statement once the list is found,
    such as taking a lock (see :func:`wishlists.db.locks.item_reservations`).
    """
    row = (await session.execute(sighting_query(wishlist_id, caller, *also))).one_or_none()
    if row is None:
        return None
    return Sighting(to_wishlist(row), bool(row.is_viewer))


def sighting_with_items_query(wishlist_id: Id, caller: Id) -> Query:
    """:func:`sighting_query` and :func:`wishlists.db.items.of_wishlist_query` as one: the
    list's columns on each of its items' rows (one row with no item for an empty list).
    Row-level security filters the items exactly as it does in their own query."""
    I = ItemRecord  # noqa: E741, N806 - reads as the table it stands for
    return (
        sighting_query(wishlist_id, caller, *item_rows.COLUMNS)
        .outerjoin(I, and_(I.wishlist_id == W.id, I.received_at.is_(None)))
        .order_by(I.created_at, I.id)
    )


async def lock(session: AsyncSession, wishlist_id: uuid.UUID) -> bool:
    """Locks the list's row until the transaction ends; False if it is gone meanwhile.

    Inserts of items and shares check their foreign key against this row, so
    they wait for the lock: the list's items, shares and viewers stay as read.
    """
    locked = await session.scalar(select(W.id).where(W.id == wishlist_id).with_for_update())
    return locked is not None


def own_page_query(owner_id: uuid.UUID, page: PageRequest) -> Query:
    query = (
        select(*columns())
        .outerjoin(UserRecord, UserRecord.id == W.owner_id)
        .where(W.owner_id == owner_id)
    )
    if page.after is not None:
        query = query.where(tuple_(W.created_at, W.id) < (page.after.at, page.after.id))
    return query.order_by(W.created_at.desc(), W.id.desc()).limit(page.fetch)


async def own_page(session: AsyncSession, owner_id: uuid.UUID, page: PageRequest) -> Page[Wishlist]:
    rows = (await session.execute(own_page_query(owner_id, page))).all()
    return page_of([to_wishlist(r) for r in rows], page, lambda w: Cursor(w.created_at, w.id))


def _first_way_in(s: Any) -> Any:
    """``s`` is the earliest of its viewer's shares of its list.

    A viewer may reach a list several ways (a direct share, groups): it is
    listed once, where the first of them put it. The key of that share stays
    put while it lasts, so pages neither repeat nor skip the list.
    """
    other = aliased(ShareRecord)
    return ~exists().where(
        other.wishlist_id == s.wishlist_id,
        other.viewer_id == s.viewer_id,
        tuple_(other.activated_at, other.id) < tuple_(s.activated_at, s.id),
    )


def shared_page_query(viewer_id: uuid.UUID, page: PageRequest) -> Query:
    s = ShareRecord
    query = (
        select(*columns(), s.activated_at, s.id.label("share_id"))
        .select_from(s)
        .join(W, W.id == s.wishlist_id)
        .outerjoin(UserRecord, UserRecord.id == W.owner_id)
        .where(s.viewer_id == viewer_id, _first_way_in(s))
    )
    if page.after is not None:
        query = query.where(tuple_(s.activated_at, s.id) < (page.after.at, page.after.id))
    return query.order_by(s.activated_at.desc(), s.id.desc()).limit(page.fetch)


async def shared_page(
    session: AsyncSession, viewer_id: uuid.UUID, page: PageRequest
) -> Page[Wishlist]:
    """Lists shared with the viewer, the most recently shared first."""
    rows = (await session.execute(shared_page_query(viewer_id, page))).all()
    keyed = page_of(list(rows), page, lambda r: Cursor(r.activated_at, r.share_id))
    return Page([to_wishlist(r) for r in keyed.items], keyed.next_cursor)


async def shared_with(session: AsyncSession, viewer_id: uuid.UUID) -> list[Wishlist]:
    """Every list shared with the viewer, the earliest shared first."""
    s = ShareRecord
    rows = (
        await session.execute(
            select(*columns())
            .select_from(s)
            .join(W, W.id == s.wishlist_id)
            .outerjoin(UserRecord, UserRecord.id == W.owner_id)
            .where(s.viewer_id == viewer_id, _first_way_in(s))
            .order_by(s.activated_at, s.id)
        )
    ).all()
    return [to_wishlist(r) for r in rows]


async def update_fields(
    session: AsyncSession, wishlist_id: uuid.UUID, changes: dict[str, Any]
) -> Wishlist:
    changed = (
        update(W)
        .where(W.id == wishlist_id)
        .values(**changes, updated_at=func.now())
        .returning(*_RECORD)
        .cte("changed")
    )
    row = (
        await session.execute(
            select(*columns(changed)).outerjoin(UserRecord, UserRecord.id == changed.c.owner_id)
        )
    ).one()
    return to_wishlist(row)


async def mark_revealed(
    session: AsyncSession, wishlist_id: uuid.UUID, *, next_occasion: date | None
) -> Wishlist:
    """Stamps the list revealed now, moving it to its next occasion if one is given."""
    changes: dict[str, Any] = {"revealed_at": func.now()}
    if next_occasion is not None:
        changes["occasion_date"] = next_occasion
    return await update_fields(session, wishlist_id, changes)


async def delete_wishlist(session: AsyncSession, wishlist_id: uuid.UUID) -> None:
    """Deletes the list; its items, shares and reservations go with it (foreign keys)."""
    await session.execute(delete(W).where(W.id == wishlist_id))


async def set_link(session: AsyncSession, wishlist_id: uuid.UUID, token_hash: bytes | None) -> None:
    """Replaces the list's link (None: revokes it); the old token stops working at once."""
    await session.execute(
        update(W)
        .where(W.id == wishlist_id)
        .values(
            link_token_hash=token_hash,
            link_created_at=func.now() if token_hash is not None else None,
        )
    )


def by_link_query(token_hash: bytes) -> Query:
    return (
        select(*columns())
        .outerjoin(UserRecord, UserRecord.id == W.owner_id)
        .where(W.link_token_hash == token_hash)
    )


async def by_link(session: AsyncSession, token_hash: bytes) -> Wishlist | None:
    row = (await session.execute(by_link_query(token_hash))).one_or_none()
    return to_wishlist(row) if row else None


async def owned_by(session: AsyncSession, owner_id: uuid.UUID) -> list[Wishlist]:
    """Every list of the owner (bounded by the per-owner limit)."""
    rows = (
        await session.execute(
            select(*columns())
            .outerjoin(UserRecord, UserRecord.id == W.owner_id)
            .where(W.owner_id == owner_id)
            .order_by(W.created_at, W.id)
        )
    ).all()
    return [to_wishlist(r) for r in rows]


async def delete_owned_by(session: AsyncSession, owner_id: uuid.UUID) -> None:
    await session.execute(delete(W).where(W.owner_id == owner_id))


async def by_ids(session: AsyncSession, wishlist_ids: list[uuid.UUID]) -> dict[uuid.UUID, Wishlist]:
    if not wishlist_ids:
        return {}
    rows = (
        await session.execute(
            select(*columns())
            .outerjoin(UserRecord, UserRecord.id == W.owner_id)
            .where(W.id.in_(wishlist_ids))
        )
    ).all()
    return {w.id: w for w in map(to_wishlist, rows)}
