"""Row-level security of groups, and the rows of access groups give, at the database.

As in ``test_row_level_security``, the reads ask with no WHERE clause at all,
as a buggy query would: the policies alone decide what a user sees.
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

from wishlists.db import groups as group_rows
from wishlists.db import scope
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.pagination import PageRequest

if TYPE_CHECKING:
    from conftest import Seed

TABLES = ("groups", "group_members", "wishlist_groups", "shares")


@dataclass
class World:
    owner: uuid.UUID
    """Owns the group and a list shared with it."""
    member: uuid.UUID
    other_member: uuid.UUID
    stranger: uuid.UUID
    group: uuid.UUID
    wishlist: uuid.UUID
    other_group: uuid.UUID
    """The stranger's, with a pending invitation."""


async def _group(seed: Seed, owner: uuid.UUID) -> uuid.UUID:
    group_id = uuid.uuid4()
    await seed.admin.execute(
        "INSERT INTO wishlists.groups (id, owner_id, name) VALUES ($1, $2, 'Family')",
        group_id,
        owner,
    )
    await seed.admin.execute(
        "INSERT INTO wishlists.group_members (id, group_id, group_owner_id, user_id, role,"
        " joined_at) VALUES (gen_random_uuid(), $1, $2, $2, 'owner', now())",
        group_id,
        owner,
    )
    return group_id


async def _join(seed: Seed, group_id: uuid.UUID, owner: uuid.UUID, user: uuid.UUID) -> None:
    await seed.admin.execute(
        "INSERT INTO wishlists.group_members (id, group_id, group_owner_id, email, user_id, role,"
        " joined_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, 'member', now())",
        group_id,
        owner,
        f"{user.hex[:10]}@example.com",
        user,
    )


@pytest.fixture
async def world(seed: Seed, sessions: async_sessionmaker[AsyncSession]) -> World:
    owner, member, other_member, stranger = [await seed.user(n) for n in ("O", "M", "N", "S")]
    group = await _group(seed, owner)
    await _join(seed, group, owner, member)
    await _join(seed, group, owner, other_member)
    wishlist = await seed.wishlist(owner)
    async with sessions() as session, scope.for_user(session, owner):
        await group_rows.share_list(session, wishlist, owner, group)
        async with scope.elevated(session):
            await group_rows.give_members_the_list(session, wishlist, owner, group)
    other_group = await _group(seed, stranger)
    await seed.admin.execute(
        "INSERT INTO wishlists.group_members (id, group_id, group_owner_id, email, role)"
        " VALUES (gen_random_uuid(), $1, $2, 'someone@example.com', 'member')",
        other_group,
        stranger,
    )
    return World(owner, member, other_member, stranger, group, wishlist, other_group)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


async def _seen_by(session: AsyncSession, user: uuid.UUID) -> dict[str, int]:
    async with scope.for_user(session, user):
        return {
            # Table names from the constant above, never from input.
            table: int(await session.scalar(text(f"SELECT count(*) FROM wishlists.{table}")) or 0)  # noqa: S608
            for table in TABLES
        }


async def test_the_group_owner_sees_all_of_their_group(session: AsyncSession, world: World) -> None:
    seen = await _seen_by(session, world.owner)
    # Their list's two rows of access through the group, as a list's owner sees its shares.
    assert seen == {"groups": 1, "group_members": 3, "wishlist_groups": 1, "shares": 2}


async def test_a_member_sees_the_group_and_only_their_own_membership(
    session: AsyncSession, world: World
) -> None:
    seen = await _seen_by(session, world.member)
    assert seen == {"groups": 1, "group_members": 1, "wishlist_groups": 1, "shares": 1}


async def test_a_stranger_sees_only_their_own_group(session: AsyncSession, world: World) -> None:
    seen = await _seen_by(session, world.stranger)
    assert seen == {"groups": 1, "group_members": 2, "wishlist_groups": 0, "shares": 0}


@pytest.mark.parametrize(
    "statement",
    [
        # A member may not add someone to the group...
        "INSERT INTO wishlists.group_members (id, group_id, group_owner_id, email, role)"
        " VALUES (gen_random_uuid(), :group, :owner, 'friend@example.com', 'member')",
        # ...nor give themselves a row of access outside the group's rules...
        "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, viewer_id, via, group_id,"
        " activated_at) VALUES (gen_random_uuid(), :wishlist, :owner, :me, 'group', :group, now())",
        # ...nor share someone else's list with the group.
        "INSERT INTO wishlists.wishlist_groups (wishlist_id, owner_id, group_id)"
        " VALUES (:wishlist, :owner, :group)",
    ],
)
async def test_a_member_cannot_add_to_the_group(
    session: AsyncSession, world: World, statement: str
) -> None:
    params = {"group": world.group, "owner": world.owner, "me": world.member}
    with pytest.raises(DBAPIError, match="row-level security"):
        async with scope.for_user(session, world.member):
            await session.execute(text(statement), params | {"wishlist": world.wishlist})


async def test_a_member_cannot_change_the_group(session: AsyncSession, world: World) -> None:
    async with scope.for_user(session, world.member):
        renamed = await session.execute(
            text("UPDATE wishlists.groups SET name = 'mine' RETURNING id")
        )
        assert renamed.all() == []
        unshared = await session.execute(
            text("DELETE FROM wishlists.wishlist_groups RETURNING group_id")
        )
        assert unshared.all() == []
        gone = await session.execute(text("DELETE FROM wishlists.groups RETURNING id"))
        assert gone.all() == []


async def test_a_member_may_leave_but_not_remove_others_nor_the_owner(
    session: AsyncSession, world: World
) -> None:
    async with scope.for_user(session, world.member):
        others = await session.execute(
            text("DELETE FROM wishlists.group_members WHERE user_id <> :me RETURNING id"),
            {"me": world.member},
        )
        assert others.all() == []
        mine = await session.execute(text("DELETE FROM wishlists.group_members RETURNING id"))
        assert len(mine.all()) == 1
    seen = await _seen_by(session, world.member)
    # The access the group gave went with the membership (foreign keys).
    assert seen == {"groups": 0, "group_members": 0, "wishlist_groups": 0, "shares": 0}
    async with scope.for_user(session, world.owner):
        assert await share_rows.viewer_ids(session, world.wishlist) == [world.other_member]


async def test_a_group_is_one_more_way_in_not_one_more_viewer(
    session: AsyncSession, world: World, seed: Seed
) -> None:
    # The member also has a direct share, and a second group gives them the list too.
    await seed.share(world.wishlist, world.owner, world.member)
    second = await _group(seed, world.owner)
    await _join(seed, second, world.owner, world.member)
    async with scope.for_user(session, world.owner):
        await group_rows.share_list(session, world.wishlist, world.owner, second)
        async with scope.elevated(session):
            news = await group_rows.give_members_the_list(
                session, world.wishlist, world.owner, second
            )
        assert news == []  # they saw the list already
        assert sorted(await share_rows.viewer_ids(session, world.wishlist)) == sorted(
            [world.member, world.other_member]
        )
        viewers = await share_rows.viewers_of(session, [world.wishlist])
        assert sorted(viewers[world.wishlist]) == sorted([world.member, world.other_member])
        # Only the direct share is the owner's to list, count and revoke.
        assert await share_rows.count(session, world.wishlist) == 1
        page = await share_rows.page_of_wishlist(session, world.wishlist, PageRequest())
        assert [s.viewer_id for s in page.items] == [world.member]
    async with scope.for_user(session, world.member):
        shared = await wishlist_rows.shared_page(session, world.member, PageRequest())
        assert [w.id for w in shared.items] == [world.wishlist]
        assert [w.id for w in await wishlist_rows.shared_with(session, world.member)] == [
            world.wishlist
        ]
    # Whatever way in goes, the others keep the list in sight.
    async with scope.for_user(session, world.owner):
        assert await group_rows.unshare_list(session, world.wishlist, world.group)
        await group_rows.delete_group(session, second)
        assert await share_rows.viewer_ids(session, world.wishlist) == [world.member]
        (direct,) = (
            await share_rows.page_of_wishlist(session, world.wishlist, PageRequest())
        ).items
        assert await share_rows.remove(session, world.wishlist, direct.id)
        assert await share_rows.viewer_ids(session, world.wishlist) == []


async def test_a_member_who_joins_later_gets_the_groups_lists(
    session: AsyncSession, world: World, seed: Seed
) -> None:
    newcomer = await seed.user("L")
    await _join(seed, world.group, world.owner, newcomer)
    async with scope.for_user(session, world.owner), scope.elevated(session):
        news = await group_rows.give_member_the_lists(session, world.group, newcomer)
        again = await group_rows.give_member_the_lists(session, world.group, newcomer)
    assert [(n.wishlist_id, n.viewer_id) for n in news] == [(world.wishlist, newcomer)]
    assert again == []
    async with scope.for_user(session, newcomer):
        shared = await wishlist_rows.shared_page(session, newcomer, PageRequest())
        assert [w.id for w in shared.items] == [world.wishlist]
