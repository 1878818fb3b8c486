"""Queries on groups, their members, the lists shared with them and the access they give.

The access a group gives is materialised as rows of ``shares`` (``via =
'group'``, ``group_id`` set): one per list shared with the group and member,
never for the list's own owner. Every viewer check reads them like any other
share. Foreign keys with ``ON DELETE CASCADE`` remove them when the list
leaves the group, the member leaves it or the group goes; the two functions
that make them (:func:`give_members_the_list`, :func:`give_member_the_lists`)
run under :func:`wishlists.db.locks.lock_group`, as does every change of a
group's members or lists, so no member is ever missed.

Row-level security shows a member their own membership and the group; the
queries that read past it (fellow members, member counts, other members'
lists, rows of access to others' lists) say so and are run elevated by their
caller, after the caller's membership was checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Uuid, delete, exists, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from wishlists.db import Query
from wishlists.db.tables import (
    GroupMemberRecord,
    GroupRecord,
    ShareRecord,
    UserRecord,
    WishlistGroupRecord,
    WishlistRecord,
)
from wishlists.domain.groups import (
    Group,
    GroupRole,
    GroupShare,
    GroupWishlist,
    Member,
    NewView,
)
from wishlists.domain.pagination import Cursor, Page, PageRequest, page_of

G = GroupRecord
M = GroupMemberRecord
WG = WishlistGroupRecord
S = ShareRecord
W = WishlistRecord


def _member_count() -> Any:
    counted = aliased(M)
    return (
        select(func.count())
        .where(counted.group_id == G.id, counted.user_id.is_not(None))
        .correlate(G)
        .scalar_subquery()
    )


def _groups_of(caller: uuid.UUID) -> Query:
    """The caller's groups with their role in each; the count of members reads past RLS."""
    return (
        select(
            G.id,
            G.name,
            G.owner_id,
            UserRecord.display_name,
            M.role,
            _member_count(),
            G.created_at,
            G.updated_at,
            M.joined_at,
            M.id.label("membership_id"),
        )
        .select_from(M)
        .join(G, G.id == M.group_id)
        .outerjoin(UserRecord, UserRecord.id == G.owner_id)
        .where(M.user_id == caller)
    )


def _group(row: Sequence[Any]) -> Group:
    return Group(*row[:6], *row[6:8])


async def create(session: AsyncSession, owner_id: uuid.UUID, name: str) -> Group:
    """A new group, its owner its first member."""
    group_id = uuid.uuid4()
    await session.execute(insert(G).values(id=group_id, owner_id=owner_id, name=name))
    await session.execute(
        insert(M).values(
            id=uuid.uuid4(),
            group_id=group_id,
            group_owner_id=owner_id,
            user_id=owner_id,
            role="owner",
            joined_at=func.now(),
        )
    )
    created = await one(session, group_id, owner_id)
    assert created is not None
    return created


async def count_owned(session: AsyncSession, owner_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(G.owner_id == owner_id)) or 0)


async def role(session: AsyncSession, group_id: uuid.UUID, user_id: uuid.UUID) -> GroupRole | None:
    """The user's role in the group; None if they are not (yet) a member."""
    found = await session.scalar(select(M.role).where(M.group_id == group_id, M.user_id == user_id))
    return cast(GroupRole | None, found)


async def one(session: AsyncSession, group_id: uuid.UUID, caller: uuid.UUID) -> Group | None:
    """The group if the caller is a member of it; counting its members needs elevation
    for a caller who is not its owner (the result is still only the caller's group)."""
    row = (await session.execute(_groups_of(caller).where(G.id == group_id))).one_or_none()
    return _group(row) if row else None


def page_query(caller: uuid.UUID, page: PageRequest) -> Query:
    query = _groups_of(caller)
    if page.after is not None:
        query = query.where(tuple_(M.joined_at, M.id) < (page.after.at, page.after.id))
    return query.order_by(M.joined_at.desc(), M.id.desc()).limit(page.fetch)


async def page_of_member(
    session: AsyncSession, caller: uuid.UUID, page: PageRequest
) -> Page[Group]:
    """The caller's groups, owned and joined, the most recently joined first (run elevated,
    as :func:`one`)."""
    rows = (await session.execute(page_query(caller, page))).all()
    keyed = page_of(list(rows), page, lambda r: Cursor(r.joined_at, r.membership_id))
    return Page([_group(r) for r in keyed.items], keyed.next_cursor)


async def rename(session: AsyncSession, group_id: uuid.UUID, name: str) -> None:
    await session.execute(
        update(G).where(G.id == group_id).values(name=name, updated_at=func.now())
    )


async def delete_group(session: AsyncSession, group_id: uuid.UUID) -> None:
    """The group goes, and with it (foreign keys) its members, its lists and their access."""
    await session.execute(delete(G).where(G.id == group_id))


# --- members -------------------------------------------------------------------

_MEMBER_COLUMNS = (
    M.id,
    M.group_id,
    M.user_id,
    UserRecord.display_name,
    M.email,
    M.role,
    M.created_at,
    M.joined_at,
)


def _members() -> Query:
    return select(*_MEMBER_COLUMNS).outerjoin(UserRecord, UserRecord.id == M.user_id)


def _member(row: Sequence[Any]) -> Member:
    return Member(*row[:8])


async def members(session: AsyncSession, group_id: uuid.UUID) -> list[Member]:
    """Every member and invitation of the group, oldest first (bounded by the member limit).

    Run elevated for a caller who is a member but not the owner: they see
    only their own membership otherwise.
    """
    rows = (
        await session.execute(_members().where(M.group_id == group_id).order_by(M.created_at, M.id))
    ).all()
    return [_member(r) for r in rows]


async def member(session: AsyncSession, group_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
    """One membership of the group (run elevated for a caller who is not the owner)."""
    row = (
        await session.execute(_members().where(M.group_id == group_id, M.id == member_id))
    ).one_or_none()
    return _member(row) if row else None


async def find_member(
    session: AsyncSession, group_id: uuid.UUID, email: str, user_id: uuid.UUID | None
) -> Member | None:
    """The membership or invitation of this address or user, if there is one."""
    match = M.email == email if user_id is None else (M.email == email) | (M.user_id == user_id)
    row = (
        await session.execute(
            _members().where(M.group_id == group_id, match).order_by(M.created_at).limit(1)
        )
    ).first()
    return _member(row) if row else None


async def count_members(session: AsyncSession, group_id: uuid.UUID) -> int:
    """Members and invitations: what the member limit bounds."""
    return int(await session.scalar(select(func.count()).where(M.group_id == group_id)) or 0)


async def add_member(
    session: AsyncSession, group: Group, email: str, user_id: uuid.UUID | None
) -> Member:
    """A member (``user_id`` known) or a pending invitation of ``email``; under the group's lock,
    after :func:`find_member` found neither."""
    member_id = uuid.uuid4()
    await session.execute(
        insert(M).values(
            id=member_id,
            group_id=group.id,
            group_owner_id=group.owner_id,
            email=email,
            user_id=user_id,
            role="member",
            joined_at=func.now() if user_id is not None else None,
        )
    )
    added = await member(session, group.id, member_id)
    assert added is not None
    return added


async def remove_member(session: AsyncSession, removed: Member) -> None:
    """Ends a membership: the access it gave goes (foreign keys), and so do the member's
    lists from the group, since a list is shared only with groups its owner is in.

    Deleting another member's ``wishlist_groups`` rows needs elevation when
    the group's owner removes them (only a list's owner may otherwise).
    """
    if removed.user_id is not None:
        await session.execute(
            delete(WG).where(WG.group_id == removed.group_id, WG.owner_id == removed.user_id)
        )
    await session.execute(delete(M).where(M.id == removed.id))


async def leave(session: AsyncSession, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The user leaves the group, their lists with them (as :func:`remove_member`)."""
    await session.execute(delete(WG).where(WG.group_id == group_id, WG.owner_id == user_id))
    await session.execute(
        delete(M).where(M.group_id == group_id, M.user_id == user_id, M.role == "member")
    )


async def pending_groups(session: AsyncSession, email: str) -> list[uuid.UUID]:
    """The groups that invited ``email`` and wait for someone to register with it."""
    found = await session.scalars(
        select(M.group_id).where(M.email == email, M.user_id.is_(None)).order_by(M.group_id)
    )
    return list(found)


async def activate_pending(
    session: AsyncSession, user_id: uuid.UUID, email: str
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Turns invitations of ``email`` into ``user_id``'s memberships: (membership, group) pairs.

    An invitation to a group the user is already in (under another address,
    or as its owner) goes instead. Run under the locks of
    :func:`pending_groups`' groups.
    """
    already = aliased(M)
    await session.execute(
        delete(M).where(
            M.email == email,
            M.user_id.is_(None),
            exists().where(already.group_id == M.group_id, already.user_id == user_id),
        )
    )
    rows = (
        await session.execute(
            update(M)
            .where(M.email == email, M.user_id.is_(None))
            .values(user_id=user_id, joined_at=func.now())
            .returning(M.id, M.group_id)
        )
    ).all()
    return [(member_id, group_id) for member_id, group_id in rows]


async def memberships_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The groups the user is in (owned ones too), in the order their locks are taken."""
    found = await session.scalars(
        select(M.group_id).where(M.user_id == user_id).order_by(M.group_id)
    )
    return list(found)


async def forget_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A deleted account's groups (with everything in them) and memberships go.

    Their lists' rows in other groups went with the lists; the access others
    had through these groups goes by the foreign keys, silently, as a revoked
    share does.
    """
    await session.execute(delete(G).where(G.owner_id == user_id))
    await session.execute(delete(M).where(M.user_id == user_id))


# --- lists shared with groups ---------------------------------------------------


async def wishlists_of(session: AsyncSession, group_id: uuid.UUID) -> list[GroupWishlist]:
    """The lists shared with the group, in the order they were (run elevated for members:
    each sees the lists of others through their own rows of access, which may lag)."""
    rows = (
        await session.execute(
            select(W.id, W.title, W.owner_id, UserRecord.display_name, W.occasion_date)
            .select_from(WG)
            .join(W, W.id == WG.wishlist_id)
            .outerjoin(UserRecord, UserRecord.id == W.owner_id)
            .where(WG.group_id == group_id)
            .order_by(WG.created_at, WG.wishlist_id)
        )
    ).all()
    return [GroupWishlist(*r) for r in rows]


def _group_shares() -> Query:
    return select(WG.group_id, G.name, WG.created_at).join(G, G.id == WG.group_id)


async def group_share(
    session: AsyncSession, wishlist_id: uuid.UUID, group_id: uuid.UUID
) -> GroupShare | None:
    row = (
        await session.execute(
            _group_shares().where(WG.wishlist_id == wishlist_id, WG.group_id == group_id)
        )
    ).one_or_none()
    return GroupShare(*row) if row else None


async def count_groups_of(session: AsyncSession, wishlist_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(WG.wishlist_id == wishlist_id)) or 0)


async def share_list(
    session: AsyncSession, wishlist_id: uuid.UUID, owner_id: uuid.UUID, group_id: uuid.UUID
) -> GroupShare:
    """Shares the list with the group (after :func:`group_share` found it not shared yet)."""
    await session.execute(
        insert(WG).values(wishlist_id=wishlist_id, owner_id=owner_id, group_id=group_id)
    )
    shared = await group_share(session, wishlist_id, group_id)
    assert shared is not None
    return shared


async def group_shares_page(
    session: AsyncSession, wishlist_id: uuid.UUID, page: PageRequest
) -> Page[GroupShare]:
    """The groups the list is shared with, the most recent first (at most 20 of them)."""
    query = _group_shares().where(WG.wishlist_id == wishlist_id)
    if page.after is not None:
        query = query.where(tuple_(WG.created_at, WG.group_id) < (page.after.at, page.after.id))
    rows = (
        await session.execute(
            query.order_by(WG.created_at.desc(), WG.group_id.desc()).limit(page.fetch)
        )
    ).all()
    return page_of([GroupShare(*r) for r in rows], page, lambda s: Cursor(s.created_at, s.group_id))


async def unshare_list(session: AsyncSession, wishlist_id: uuid.UUID, group_id: uuid.UUID) -> bool:
    """The list leaves the group; the access it gave goes with it (foreign keys)."""
    result = await session.execute(
        delete(WG)
        .where(WG.wishlist_id == wishlist_id, WG.group_id == group_id)
        .returning(WG.group_id)
    )
    return result.first() is not None


# --- the access a group gives ----------------------------------------------------

_SHARE_TARGET = (S.id, S.wishlist_id, S.owner_id, S.viewer_id, S.via, S.group_id, S.activated_at)


async def _insert_views(session: AsyncSession, source: Query) -> list[NewView]:
    """Inserts the rows of access ``source`` selects; returns those to lists their viewer
    could not see before.

    The check reads ``shares`` in the same statement as the insert, so it sees
    the table as it was before it: a second way to a list already seen is no
    news to its viewer.
    """
    added = (
        insert(S)
        .from_select(list(_SHARE_TARGET), source)
        .on_conflict_do_nothing()
        .returning(S.id, S.wishlist_id, S.viewer_id)
        .cte("added")
    )
    before = aliased(S)
    rows = (
        await session.execute(
            select(added.c.id, added.c.wishlist_id, added.c.viewer_id).where(
                ~exists().where(
                    before.wishlist_id == added.c.wishlist_id,
                    before.viewer_id == added.c.viewer_id,
                )
            )
        )
    ).all()
    return [NewView(*r) for r in rows]


async def give_members_the_list(
    session: AsyncSession, wishlist_id: uuid.UUID, owner_id: uuid.UUID, group_id: uuid.UUID
) -> list[NewView]:
    """Every active member but the list's owner gets a row of access to the list.

    Run elevated: the list's owner reads the other members of the group.
    """
    source = select(
        func.gen_random_uuid(),
        literal(wishlist_id, Uuid),
        literal(owner_id, Uuid),
        M.user_id,
        literal("group"),
        M.group_id,
        func.now(),
    ).where(M.group_id == group_id, M.user_id.is_not(None), M.user_id != owner_id)
    return await _insert_views(session, source)


async def give_member_the_lists(
    session: AsyncSession, group_id: uuid.UUID, user_id: uuid.UUID
) -> list[NewView]:
    """The member gets a row of access to every list shared with the group but their own.

    Run elevated: the rows are of others' lists, which only their owners may
    otherwise add. Each list's row is key-share locked: a list deleted
    meanwhile is waited for and skipped rather than failing the foreign key.
    """
    source = (
        select(
            func.gen_random_uuid(),
            WG.wishlist_id,
            WG.owner_id,
            literal(user_id, Uuid),
            literal("group"),
            WG.group_id,
            func.now(),
        )
        .join(W, W.id == WG.wishlist_id)
        .where(WG.group_id == group_id, WG.owner_id != user_id)
        .with_for_update(key_share=True, of=W)
    )
    return await _insert_views(session, source)
