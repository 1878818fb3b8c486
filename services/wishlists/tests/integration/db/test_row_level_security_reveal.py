"""Row-level security for suggestions and reveals: the database keeps a list's owner from
a suggestion and from reservations until the reveal stamps them, whatever a query asks.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wishlists.db import scope

if TYPE_CHECKING:
    import asyncpg

    from conftest import Seed


@dataclass
class World:
    owner: uuid.UUID
    viewer: uuid.UUID
    other_viewer: uuid.UUID
    wishlist: uuid.UUID
    item: uuid.UUID
    suggestion: uuid.UUID
    link_hash: bytes


@pytest.fixture
async def world(seed: Seed, admin: asyncpg.Connection) -> World:
    owner, viewer, other_viewer = (
        await seed.user("Olga"),
        await seed.user("Vera"),
        await seed.user("Otto"),
    )
    link_hash = uuid.uuid4().bytes * 2
    wishlist = await seed.wishlist(owner, link_hash)
    item = await seed.item(wishlist, owner)
    suggestion = await seed.item(wishlist, owner)
    await admin.execute(
        "UPDATE wishlists.items SET suggestion = true, suggested_by = $1 WHERE id = $2",
        viewer,
        suggestion,
    )
    await seed.share(wishlist, owner, viewer)
    await seed.share(wishlist, owner, other_viewer)
    await seed.reservation(item, wishlist, other_viewer)
    await seed.reservation(suggestion, wishlist, other_viewer)
    return World(owner, viewer, other_viewer, wishlist, item, suggestion, link_hash)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


async def _ids(session: AsyncSession, table: str) -> set[uuid.UUID]:
    # Table names are literals of these tests, never input.
    rows = await session.scalars(text(f"SELECT id FROM wishlists.{table}"))  # noqa: S608
    return set(rows.all())


async def test_the_owner_sees_no_suggestion_and_no_reservation_before_the_reveal(
    session: AsyncSession, world: World
) -> None:
    async with scope.for_user(session, world.owner):
        assert await _ids(session, "items") == {world.item}
        assert await _ids(session, "reservations") == set()
        # Nor may they touch it.
        touched = await session.execute(
            text("UPDATE wishlists.items SET title = 'seen' WHERE suggestion RETURNING id")
        )
        assert touched.all() == []


async def test_the_link_shows_no_suggestion(session: AsyncSession, world: World) -> None:
    async with scope.for_link(session, world.link_hash):
        assert await _ids(session, "items") == {world.item}


async def test_viewers_see_the_suggestion_and_only_its_suggester_changes_it(
    session: AsyncSession, world: World
) -> None:
    async with scope.for_user(session, world.other_viewer):
        assert await _ids(session, "items") == {world.item, world.suggestion}
        touched = await session.execute(
            text("UPDATE wishlists.items SET title = 'mine' RETURNING id")
        )
        assert touched.all() == []
    async with scope.for_user(session, world.viewer):
        touched = await session.execute(
            text("UPDATE wishlists.items SET title = 'better' RETURNING id")
        )
        assert touched.scalars().all() == [world.suggestion]


async def test_a_viewer_may_not_plant_an_owners_item_or_anothers_suggestion(
    session: AsyncSession, world: World
) -> None:
    for suggestion, suggested_by in ((False, None), (True, world.other_viewer)):
        with pytest.raises(DBAPIError, match="row-level security"):
            async with scope.for_user(session, world.viewer):
                await session.execute(
                    text(
                        "INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity,"
                        " priority, suggestion, suggested_by) VALUES (gen_random_uuid(), :list,"
                        " :owner, 'x', 1, 3, :suggestion, :suggested_by)"
                    ),
                    {
                        "list": world.wishlist,
                        "owner": world.owner,
                        "suggestion": suggestion,
                        "suggested_by": suggested_by,
                    },
                )


async def test_the_owner_reads_exactly_what_a_reveal_stamped(
    session: AsyncSession, world: World, admin: asyncpg.Connection
) -> None:
    await admin.execute(
        "UPDATE wishlists.reservations SET revealed_at = now() WHERE item_id = $1", world.item
    )
    await admin.execute(
        "UPDATE wishlists.items SET revealed_at = now() WHERE id = $1", world.suggestion
    )
    async with scope.for_user(session, world.owner):
        assert await _ids(session, "items") == {world.item, world.suggestion}
        revealed = await session.scalars(text("SELECT item_id FROM wishlists.reservations"))
        # The suggestion's reservation was not revealed: it stays hidden.
        assert revealed.all() == [world.item]
