"""Queries on reservations. Row-level security shows them to reservers and viewers only.

An owner's transaction finds no reservation rows of their own lists whatever
it asks: the database holds the surprise rule too, behind the domain's filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, bindparam, delete, func, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.outbox import NewEvents, events_cte
from wishlist_shared.outbox import notify as outbox_notify
from wishlists.db import Id, Query
from wishlists.db import items as item_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.db.errors import violates_foreign_key
from wishlists.db.tables import (
    ItemRecord,
    ReservationRecord,
    ShareRecord,
    UserRecord,
    WishlistRecord,
    outbox,
)
from wishlists.domain.model import (
    Gift,
    Item,
    NamedReservation,
    Person,
    Reservation,
    ShoppingEntry,
    Tally,
)
from wishlists.domain.pagination import Cursor, Page, PageRequest, page_of

R = ReservationRecord
I = ItemRecord  # noqa: E741 - reads as the table it stands for

_COLUMNS = (
    R.id,
    R.item_id,
    R.wishlist_id,
    R.quantity,
    R.purchased,
    R.created_at,
    R.updated_at,
    R.show_name,
)


def _reservation(row: Sequence[Any]) -> Reservation:
    return Reservation(*row[: len(_COLUMNS)])


def tallies_query(wishlist_id: Id, viewer_id: Id) -> Query:
    # Names only of the reservers who chose to show them: an anonymous
    # reserver's id never leaves the database for another viewer's answer.
    named = func.json_agg(
        aggregate_order_by(
            func.json_build_array(
                func.cast(R.reserver_id, Text), UserRecord.display_name, R.quantity
            ),
            R.created_at,
        )
    ).filter(R.show_name)
    return (
        select(
            R.item_id,
            func.sum(R.quantity).label("reserved"),
            func.bool_or(R.reserver_id == viewer_id).label("mine"),
            named.label("named"),
        )
        .outerjoin(UserRecord, UserRecord.id == R.reserver_id)
        .where(R.wishlist_id == wishlist_id)
        .group_by(R.item_id)
    )


# Built once: a list read by a viewer runs it every time.
_TALLIES = tallies_query(
    bindparam("wishlist_id", type_=R.wishlist_id.type), bindparam("viewer_id", type_=R.id.type)
)


def _named(raw: list[list[Any]] | None) -> tuple[NamedReservation, ...]:
    return tuple(
        NamedReservation(Person(uuid.UUID(user_id), name), int(quantity))
        for user_id, name, quantity in raw or ()
    )


async def tallies(
    session: AsyncSession, wishlist_id: uuid.UUID, viewer_id: uuid.UUID
) -> dict[uuid.UUID, Tally]:
    """Per item of the list: units reserved, whether the viewer holds some, and the
    reservations shown with a name. One query."""
    connection = await session.connection()
    result = await connection.execute(
        _TALLIES, {"wishlist_id": wishlist_id, "viewer_id": viewer_id}
    )
    rows = result.all()
    return {r.item_id: Tally(int(r.reserved), bool(r.mine), _named(r.named)) for r in rows}


async def gifts_on(
    session: AsyncSession, item_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Gift]]:
    """The reservations of the items that row-level security lets the caller read: for
    an owner, those a reveal uncovered. Oldest first."""
    if not item_ids:
        return {}
    rows = (
        await session.execute(
            select(R.item_id, R.reserver_id, UserRecord.display_name, R.quantity, R.purchased)
            .outerjoin(UserRecord, UserRecord.id == R.reserver_id)
            .where(R.item_id.in_(item_ids))
            .order_by(R.item_id, R.created_at, R.id)
        )
    ).all()
    found: dict[uuid.UUID, list[Gift]] = {}
    for item_id, reserver_id, name, quantity, purchased in rows:
        found.setdefault(item_id, []).append(
            Gift(Person(reserver_id, name), int(quantity), bool(purchased))
        )
    return found


async def reserved_on(session: AsyncSession, item_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.sum(R.quantity), 0)).where(R.item_id == item_id)
        )
        or 0
    )


@dataclass(frozen=True)
class Standing:
    """Units reserved on an item by everyone, and whether one of them is the caller."""

    reserved: int
    mine: bool


def _item_with_standing() -> Query:
    standing = (
        select(
            func.coalesce(func.sum(R.quantity), 0).label("reserved"),
            func.coalesce(
                func.bool_or(R.reserver_id == bindparam("reserver_id", type_=R.reserver_id.type)),
                False,
            ).label("mine"),
        )
        .where(R.item_id == I.id)
        .lateral("standing")
    )
    return (
        select(*item_rows.COLUMNS, standing.c.reserved, standing.c.mine)
        .select_from(I)
        .join(standing, true())
        .where(
            I.id == bindparam("item_id", type_=I.id.type),
            I.wishlist_id == bindparam("wishlist_id", type_=I.wishlist_id.type),
        )
    )


# Built once, like the statements below: every reservation runs it.
_ITEM_WITH_STANDING = _item_with_standing()


async def item_with_standing(
    session: AsyncSession, wishlist_id: uuid.UUID, item_id: uuid.UUID, reserver_id: uuid.UUID
) -> tuple[Item, Standing] | None:
    """The item of the list and its :class:`Standing` for the reserver, in one query; None
    when the list has no such item."""
    row = (
        await (await session.connection()).execute(
            _ITEM_WITH_STANDING,
            {"wishlist_id": wishlist_id, "item_id": item_id, "reserver_id": reserver_id},
        )
    ).one_or_none()
    if row is None:
        return None
    n = len(item_rows.COLUMNS)
    return item_rows.to_item(row[:n]), Standing(int(row[n]), bool(row[n + 1]))


async def reserved_on_items(
    session: AsyncSession, item_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not item_ids:
        return {}
    rows = (
        await session.execute(
            select(R.item_id, func.sum(R.quantity))
            .where(R.item_id.in_(item_ids))
            .group_by(R.item_id)
        )
    ).all()
    return {item_id: int(total) for item_id, total in rows}


class ItemGone(Exception):  # noqa: N818 - reads as the condition it reports
    """The item was deleted (with its list) while the reservation was being made."""


def _adding() -> Query:
    made = (
        insert(R)
        .values(
            id=bindparam("id", type_=R.id.type),
            item_id=bindparam("item_id", type_=R.item_id.type),
            wishlist_id=bindparam("wishlist_id", type_=R.wishlist_id.type),
            reserver_id=bindparam("reserver_id", type_=R.reserver_id.type),
            quantity=bindparam("quantity", type_=R.quantity.type),
            show_name=bindparam("show_name", type_=R.show_name.type),
        )
        .on_conflict_do_nothing(index_elements=[R.item_id, R.reserver_id])
        .returning(*_COLUMNS)
        .cte("made")
    )
    # The events go in with the reservation, in the same statement: they exist
    # exactly when it does (a conflict makes the caller roll back).
    return select(*(made.c[c.key] for c in _COLUMNS), outbox_notify(outbox)).add_cte(
        events_cte(outbox)
    )


_ADDING = _adding()


async def add(
    session: AsyncSession,
    item: Item,
    reserver_id: uuid.UUID,
    quantity: int,
    *,
    show_name: bool = False,
    events: NewEvents,
) -> Reservation | None:
    """The new reservation, saved with ``events`` in one statement; None when the
    reserver already holds one on the item, and then the caller must roll back, as
    the events were saved all the same.

    :class:`ItemGone` when the list was deleted meanwhile: deleting a list
    cascades to its items without taking each item's reservation lock, so the
    foreign key is what notices.
    """
    try:
        result = await (await session.connection()).execute(
            _ADDING,
            {
                "id": uuid.uuid4(),
                "item_id": item.id,
                "wishlist_id": item.wishlist_id,
                "reserver_id": reserver_id,
                "quantity": quantity,
                "show_name": show_name,
                **events.params,
            },
        )
    except IntegrityError as exc:
        if violates_foreign_key(exc):
            raise ItemGone() from exc
        raise
    row = result.one_or_none()
    return _reservation(row) if row else None


async def remove_mine(session: AsyncSession, item_id: uuid.UUID, reserver_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(R).where(R.item_id == item_id, R.reserver_id == reserver_id).returning(R.id)
    )
    return result.first() is not None


async def reserver_ids(session: AsyncSession, item_id: uuid.UUID) -> list[uuid.UUID]:
    """Who holds reservations on the item; run elevated (the owner sees none)."""
    return list((await session.scalars(select(R.reserver_id).where(R.item_id == item_id))).all())


# --- the caller's shopping list ------------------------------------------------

W = WishlistRecord


def _still_viewer(reserver_id: uuid.UUID) -> Any:
    # A viewer whose share was revoked keeps their reservations (hidden from
    # the owner, counted for the others) but no longer sees the list.
    return R.wishlist_id.in_(
        select(ShareRecord.wishlist_id).where(ShareRecord.viewer_id == reserver_id)
    )


def _entries(reserver_id: uuid.UUID) -> Query:
    return (
        select(*_COLUMNS, *item_rows.COLUMNS, *wishlist_rows.columns())
        .select_from(R)
        .join(I, I.id == R.item_id)
        .join(W, W.id == R.wishlist_id)
        .outerjoin(UserRecord, UserRecord.id == W.owner_id)
        .where(R.reserver_id == reserver_id, _still_viewer(reserver_id))
    )


def _entry(row: Sequence[Any]) -> ShoppingEntry:
    n, m = len(_COLUMNS), len(item_rows.COLUMNS)
    values = tuple(row)
    return ShoppingEntry(
        reservation=Reservation(*values[:n]),
        item=item_rows.to_item(values[n : n + m]),
        wishlist=wishlist_rows.to_wishlist(values[n + m :]),
    )


def page_query(reserver_id: uuid.UUID, page: PageRequest) -> Query:
    query = _entries(reserver_id)
    if page.after is not None:
        query = query.where(tuple_(R.created_at, R.id) < (page.after.at, page.after.id))
    return query.order_by(R.created_at.desc(), R.id.desc()).limit(page.fetch)


async def page_of_reserver(
    session: AsyncSession, reserver_id: uuid.UUID, page: PageRequest
) -> Page[ShoppingEntry]:
    rows = (await session.execute(page_query(reserver_id, page))).all()
    return page_of(
        [_entry(r) for r in rows],
        page,
        lambda e: Cursor(e.reservation.created_at, e.reservation.id),
    )


async def every_of_reserver(session: AsyncSession, reserver_id: uuid.UUID) -> list[ShoppingEntry]:
    """The whole shopping list, oldest first: what the pages show, in one query."""
    query = _entries(reserver_id).order_by(R.created_at, R.id)
    return [_entry(r) for r in (await session.execute(query)).all()]


async def entry(
    session: AsyncSession, reservation_id: uuid.UUID, reserver_id: uuid.UUID
) -> ShoppingEntry | None:
    row = (await session.execute(_entries(reserver_id).where(R.id == reservation_id))).one_or_none()
    return _entry(row) if row else None


async def change(
    session: AsyncSession,
    reservation_id: uuid.UUID,
    reserver_id: uuid.UUID,
    changes: dict[str, Any],
) -> None:
    """Sets ``purchased`` and/or ``show_name`` of the reserver's reservation."""
    await session.execute(
        update(R)
        .where(R.id == reservation_id, R.reserver_id == reserver_id)
        .values(**changes, updated_at=func.now())
    )


# --- a deleted account ---------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A reservation a user held, with what others need to be told about its end."""

    item: Item
    wishlist_id: uuid.UUID


async def held_by(session: AsyncSession, reserver_id: uuid.UUID) -> list[Held]:
    rows = (
        await session.execute(
            select(*item_rows.COLUMNS)
            .select_from(R)
            .join(I, I.id == R.item_id)
            .where(R.reserver_id == reserver_id)
            .order_by(R.created_at, R.id)
        )
    ).all()
    return [Held(item_rows.to_item(r), r.wishlist_id) for r in rows]


async def remove_held_by(session: AsyncSession, reserver_id: uuid.UUID) -> None:
    await session.execute(delete(R).where(R.reserver_id == reserver_id))
