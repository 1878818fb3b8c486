"""Row-level security: a transaction run for a user sees only the rows that user may see.

The policies are the second line behind the domain's access rules, so these
queries ask with no WHERE clause at all, as a buggy query would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wishlists.db import scope

if TYPE_CHECKING:
    from conftest import Seed

TABLES = ("wishlists", "items", "shares", "reservations")


@dataclass
class World:
    owner: uuid.UUID
    viewer: uuid.UUID
    other_viewer: uuid.UUID
    stranger: uuid.UUID
    wishlist: uuid.UUID
    item: uuid.UUID
    other_list: uuid.UUID
    link_hash: bytes


@pytest.fixture
async def world(seed: Seed) -> World:
    owner, viewer, other_viewer, stranger = (
        await seed.user("Olga"),
        await seed.user("Vera"),
        await seed.user("Otto"),
        await seed.user("Sam"),
    )
    link_hash = uuid.uuid4().bytes * 2
    wishlist = await seed.wishlist(owner, link_hash)
    item = await seed.item(wishlist, owner, quantity=3)
    await seed.share(wishlist, owner, viewer)
    await seed.share(wishlist, owner, other_viewer)
    await seed.reservation(item, wishlist, viewer)
    await seed.reservation(item, wishlist, other_viewer)
    # A list of the stranger's, which nobody else may see.
    other_list = await seed.wishlist(stranger)
    await seed.item(other_list, stranger)
    return World(owner, viewer, other_viewer, stranger, wishlist, item, other_list, link_hash)


async def _visible(session: AsyncSession) -> dict[str, int]:
    return {
        # Table names from the constant above, never from input.
        table: int(await session.scalar(text(f"SELECT count(*) FROM wishlists.{table}")) or 0)  # noqa: S608
        for table in TABLES
    }


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


async def _seen_in(block: AbstractAsyncContextManager[AsyncSession]) -> dict[str, int]:
    async with block as s:
        return await _visible(s)


async def test_a_stranger_sees_only_their_own_rows(session: AsyncSession, world: World) -> None:
    seen = await _seen_in(scope.for_user(session, world.stranger))
    assert seen == {"wishlists": 1, "items": 1, "shares": 0, "reservations": 0}


async def test_the_owner_sees_their_list_but_not_one_reservation(
    session: AsyncSession, world: World
) -> None:
    seen = await _seen_in(scope.for_user(session, world.owner))
    assert seen == {"wishlists": 1, "items": 1, "shares": 2, "reservations": 0}


async def test_a_viewer_sees_the_list_its_reservations_and_only_their_own_share(
    session: AsyncSession, world: World
) -> None:
    seen = await _seen_in(scope.for_user(session, world.viewer))
    assert seen == {"wishlists": 1, "items": 1, "shares": 1, "reservations": 2}


async def test_a_link_shows_one_list_and_its_items_and_nothing_else(
    session: AsyncSession, world: World
) -> None:
    seen = await _seen_in(scope.for_link(session, world.link_hash))
    assert seen == {"wishlists": 1, "items": 1, "shares": 0, "reservations": 0}
    seen = await _seen_in(scope.for_link(session, b"\x00" * 32))
    assert seen == {"wishlists": 0, "items": 0, "shares": 0, "reservations": 0}


async def test_a_transaction_that_names_nobody_sees_nothing(
    session: AsyncSession, world: World
) -> None:
    async with session.begin():
        assert await _visible(session) == dict.fromkeys(TABLES, 0)


async def test_the_system_scope_and_elevation_see_everything(
    session: AsyncSession, world: World
) -> None:
    everything = {"wishlists": 2, "items": 2, "shares": 2, "reservations": 2}
    assert await _seen_in(scope.for_system(session)) == everything
    async with scope.for_user(session, world.owner):
        async with scope.elevated(session):
            assert await _visible(session) == everything
        # Back to the owner's own view once the block ends.
        assert (await _visible(session))["reservations"] == 0


@pytest.mark.parametrize(
    ("who", "statement"),
    [
        # The owner may not reserve on their own list, even bypassing the API.
        (
            "owner",
            "INSERT INTO wishlists.reservations (id, item_id, wishlist_id, reserver_id, quantity)"
            " VALUES (gen_random_uuid(), :item, :wishlist, :me, 1)",
        ),
        # A stranger may not plant an item in someone's list.
        (
            "stranger",
            "INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity, priority)"
            " VALUES (gen_random_uuid(), :wishlist, :owner, 'x', 1, 3)",
        ),
        # A viewer may not make themselves a viewer of another list, nor share.
        (
            "viewer",
            "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, viewer_id, via, activated_at)"
            " VALUES (gen_random_uuid(), :wishlist, :owner, :me, 'link', now())",
        ),
    ],
)
async def test_writes_outside_ones_rights_are_refused(
    session: AsyncSession, world: World, who: str, statement: str
) -> None:
    me = {"owner": world.owner, "stranger": world.stranger, "viewer": world.viewer}[who]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with scope.for_user(session, me):
            await session.execute(
                text(statement),
                {"item": world.item, "wishlist": world.wishlist, "me": me, "owner": world.owner},
            )


async def test_a_viewer_cannot_change_or_delete_what_they_see(
    session: AsyncSession, world: World
) -> None:
    async with scope.for_user(session, world.viewer):
        changed = await session.execute(
            text("UPDATE wishlists.items SET title = 'mine' RETURNING id")
        )
        assert changed.all() == []
        removed = await session.execute(text("DELETE FROM wishlists.wishlists RETURNING id"))
        assert removed.all() == []
