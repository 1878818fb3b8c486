"""Reading a list costs the same few statements whether it holds one item or hundreds.

The routes are called in-process on a real database, with every statement
counted as the driver sends it: a query per item or per reservation (N+1)
would make the big list cost more. The list's own read runs on asyncpg
directly (``wishlists.db.reads``): there every message to the server is
counted, its ``BEGIN`` and ``COMMIT`` too.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wishlist_shared.jwt import AccessClaims
from wishlists.api.routes import reservations, shares, wishlists
from wishlists.api.runtime import Runtime
from wishlists.api.schemas import ReservationCreate
from wishlists.domain.pagination import PageRequest
from wishlists.settings import Settings

if TYPE_CHECKING:
    from conftest import Seed


def claims_of(user: uuid.UUID) -> AccessClaims:
    now = int(time.time())
    return AccessClaims(
        subject=user, token_id="t", session_id=None, issued_at=now, expires_at=now + 60
    )


async def _statements(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    call: Callable[[AsyncSession], Awaitable[Any]],
) -> tuple[int, Any]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions() as session:
            result = await call(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return len(sent), result


async def _messages(engine: AsyncEngine, call: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    """What ``call`` sends on connections it takes from the pool as asyncpg's own."""
    sent: list[str] = []

    def log(query: Any) -> None:
        sent.append(query.query)

    def watch(dbapi: Any, _record: Any, _proxy: Any) -> None:
        dbapi.driver_connection.add_query_logger(log)

    def unwatch(dbapi: Any, _record: Any) -> None:
        dbapi.driver_connection.remove_query_logger(log)

    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", watch)
    event.listen(pool, "checkin", unwatch)
    try:
        result = await call()
        # asyncpg hands each logged query to its loggers with call_soon: one
        # turn of the loop, and the last (the COMMIT) is in.
        await asyncio.sleep(0)
    finally:
        event.remove(pool, "checkout", watch)
        event.remove(pool, "checkin", unwatch)
    return len(sent), result


async def _list_with(
    seed: Seed, items: int, viewers: int
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A list with ``items`` items, each reserved by each of ``viewers`` viewers."""
    owner = await seed.user("Olga")
    wishlist = await seed.wishlist(owner)
    watching = [await seed.user(f"V{n}") for n in range(viewers)]
    for viewer in watching:
        await seed.share(wishlist, owner, viewer)
    for _ in range(items):
        item = await seed.item(wishlist, owner, quantity=99)
        for viewer in watching:
            await seed.reservation(item, wishlist, viewer)
    return owner, watching[0], wishlist


async def test_a_list_reads_in_the_same_statements_however_big(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    small_owner, small_viewer, small = await _list_with(seed, items=1, viewers=1)
    big_owner, big_viewer, big = await _list_with(seed, items=60, viewers=5)
    runtime = Runtime(settings=Settings(), sessions=sessions, engine=engine)

    for user, wishlist_id, size in (
        (small_viewer, small, 1),
        (big_viewer, big, 60),
        (small_owner, small, 1),
        (big_owner, big, 60),
    ):
        counted, detail = await _messages(
            engine, lambda u=user, w=wishlist_id: wishlists.read_wishlist(w, claims_of(u), runtime)
        )
        assert len(json.loads(detail.body)["items"]) == size
        # BEGIN with the scope in one message, the list with the caller's role
        # and its items, for a viewer the tallies, and COMMIT.
        assert counted == (4 if user in (small_viewer, big_viewer) else 3), counted
    big_detail = await _messages(
        engine, lambda: wishlists.read_wishlist(big, claims_of(big_viewer), runtime)
    )
    assert {i["reserved_quantity"] for i in json.loads(big_detail[1].body)["items"]} == {5}


async def test_pages_read_in_the_same_statements_however_full(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    _, small_viewer, _ = await _list_with(seed, items=1, viewers=1)
    big_owner, big_viewer, big = await _list_with(seed, items=40, viewers=3)
    page = PageRequest(limit=200)

    costs = {}
    for viewer in (small_viewer, big_viewer):
        costs[viewer] = (
            await _statements(
                engine,
                sessions,
                lambda s, v=viewer: reservations.my_reservations(claims_of(v), s, page),
            ),
            await _statements(
                engine,
                sessions,
                lambda s, v=viewer: wishlists.list_shared_with_me(claims_of(v), s, page),
            ),
        )
    (small_reservations, small_shared), (big_reservations, big_shared) = costs.values()
    assert len(big_reservations[1].items) == 40
    assert small_reservations[0] == big_reservations[0]
    assert small_shared[0] == big_shared[0]

    shares_cost, shares_page = await _statements(
        engine, sessions, lambda s: shares.list_shares(big, claims_of(big_owner), s, page)
    )
    assert len(shares_page.items) == 3
    assert shares_cost == 3


async def test_a_reservation_costs_seven_statements_however_many_viewers(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    owner = await seed.user("Olga")
    wishlist = await seed.wishlist(owner)
    viewers = [await seed.user(f"V{n}") for n in range(5)]
    for viewer in viewers:
        await seed.share(wishlist, owner, viewer)
    item = await seed.item(wishlist, owner, quantity=99)
    await seed.reservation(item, wishlist, viewers[1], quantity=2)

    counted, made = await _statements(
        engine,
        sessions,
        lambda s: reservations.reserve(
            wishlist, item, ReservationCreate(quantity=3), claims_of(viewers[0]), s
        ),
    )
    assert made.quantity == 3
    assert made.item_id == made.item.id == item
    assert made.wishlist_id == wishlist
    # Scope; the list with the caller's role and the item's lock; the item with
    # what is reserved of it and whether by the caller; the other viewers
    # (elevated: set, read, reset); the reservation inserted with its outbox
    # rows and their NOTIFY.
    assert counted == 7, counted
