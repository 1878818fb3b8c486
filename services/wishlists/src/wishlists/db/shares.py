"""Queries on shares: who views which list, pending invitations, joins by link.

Besides direct shares (by email, by link) the table holds the rows groups
give: one per list, group and member (``group_id`` set, see
:mod:`wishlists.db.groups`). Every viewer check reads them alike; what is
about direct shares (the owner's page of them, the share limit, revoking,
inviting again) reads only ``group_id IS NULL``, and whatever lists viewers
lists each of them once however many ways they reach the list.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from wishlists.db import Query
from wishlists.db.tables import ShareRecord, UserRecord
from wishlists.domain.model import Share, ShareVia, Wishlist
from wishlists.domain.pagination import Cursor, Page, PageRequest, page_of

S = ShareRecord

_COLUMNS = (
    S.id,
    S.wishlist_id,
    S.email,
    S.viewer_id,
    UserRecord.display_name,
    S.via,
    S.created_at,
    S.activated_at,
)


def _share(row: Sequence[Any]) -> Share:
    return Share(*row[:8])


def _with_viewer(query: Query) -> Query:
    return query.outerjoin(UserRecord, UserRecord.id == S.viewer_id)


_DIRECT = S.group_id.is_(None)


# Built once: every write that tells the viewers runs it.
_VIEWER_IDS = (
    select(S.viewer_id)
    .where(S.wishlist_id == bindparam("wishlist_id", type_=S.wishlist_id.type))
    .where(S.viewer_id.is_not(None))
    .distinct()
)


async def viewer_ids(session: AsyncSession, wishlist_id: uuid.UUID) -> list[uuid.UUID]:
    """The list's viewers now. Only the owner (or an elevated scope) sees them all."""
    # Core, not the ORM's execute: there is nothing to flush or load.
    found = await (await session.connection()).scalars(_VIEWER_IDS, {"wishlist_id": wishlist_id})
    return [viewer for viewer in found if viewer is not None]


async def viewers_of(
    session: AsyncSession, wishlist_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Viewers of each of several lists, in one query."""
    if not wishlist_ids:
        return {}
    rows = (
        await session.execute(
            select(S.wishlist_id, S.viewer_id)
            .where(S.wishlist_id.in_(wishlist_ids), S.viewer_id.is_not(None))
            .distinct()
        )
    ).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for wishlist_id, viewer_id in rows:
        if viewer_id is not None:  # filtered in SQL; this tells the type checker
            found[wishlist_id].append(viewer_id)
    return found


async def is_viewer(session: AsyncSession, wishlist_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            select(exists().where(S.wishlist_id == wishlist_id, S.viewer_id == user_id))
        )
    )


async def count(session: AsyncSession, wishlist_id: uuid.UUID) -> int:
    """The list's direct shares, pending ones included: what the share limit bounds."""
    return int(
        await session.scalar(select(func.count()).where(S.wishlist_id == wishlist_id, _DIRECT)) or 0
    )


def page_query(wishlist_id: uuid.UUID, page: PageRequest) -> Query:
    query = _with_viewer(select(*_COLUMNS)).where(S.wishlist_id == wishlist_id, _DIRECT)
    if page.after is not None:
        query = query.where(tuple_(S.created_at, S.id) < (page.after.at, page.after.id))
    return query.order_by(S.created_at.desc(), S.id.desc()).limit(page.fetch)


async def page_of_wishlist(
    session: AsyncSession, wishlist_id: uuid.UUID, page: PageRequest
) -> Page[Share]:
    rows = (await session.execute(page_query(wishlist_id, page))).all()
    return page_of([_share(r) for r in rows], page, lambda s: Cursor(s.created_at, s.id))


async def of_wishlists(
    session: AsyncSession, wishlist_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Share]]:
    """The direct shares of several lists in one query, each list's oldest first."""
    if not wishlist_ids:
        return {}
    rows = (
        await session.execute(
            _with_viewer(select(*_COLUMNS))
            .where(S.wishlist_id.in_(wishlist_ids), _DIRECT)
            .order_by(S.wishlist_id, S.created_at, S.id)
        )
    ).all()
    found: dict[uuid.UUID, list[Share]] = defaultdict(list)
    for row in rows:
        share = _share(row)
        found[share.wishlist_id].append(share)
    return found


async def _one(session: AsyncSession, query: Query) -> Share | None:
    row = (await session.execute(_with_viewer(query))).first()
    return _share(row) if row else None


async def add(
    session: AsyncSession,
    wishlist: Wishlist,
    *,
    via: ShareVia,
    email: str | None,
    viewer_id: uuid.UUID | None,
) -> tuple[Share, bool]:
    """Shares the list; returns the share and whether it is new.

    Sharing again with the same address, or with someone who already has a
    direct share, returns what is there: the unique indexes decide, so two
    concurrent requests cannot make two shares. Access through a group is no
    conflict: the direct share is made beside it, and outlasts the group's.
    """
    share_id = uuid.uuid4()
    inserted = await session.scalar(
        insert(S)
        .values(
            id=share_id,
            wishlist_id=wishlist.id,
            owner_id=wishlist.owner_id,
            email=email,
            viewer_id=viewer_id,
            via=via,
            activated_at=func.now() if viewer_id is not None else None,
        )
        .on_conflict_do_nothing()
        .returning(S.id)
    )
    if inserted is not None:
        share = await _one(session, select(*_COLUMNS).where(S.id == share_id))
        assert share is not None
        return share, True
    match = []
    if email is not None:
        match.append(S.email == email)
    if viewer_id is not None:
        match.append(S.viewer_id == viewer_id)
    existing = await _one(
        session,
        select(*_COLUMNS)
        .where(S.wishlist_id == wishlist.id, _DIRECT, or_(*match))
        .order_by(S.created_at),
    )
    assert existing is not None  # the conflict was with it, and shares are not deleted here
    return existing, False


async def remove(session: AsyncSession, wishlist_id: uuid.UUID, share_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(S).where(S.id == share_id, S.wishlist_id == wishlist_id, _DIRECT).returning(S.id)
    )
    return result.first() is not None


@dataclass(frozen=True)
class Activation:
    share_id: uuid.UUID
    wishlist_id: uuid.UUID


async def activate_pending(
    session: AsyncSession, user_id: uuid.UUID, email: str
) -> list[Activation]:
    """Turns the pending shares to ``email`` into ``user_id``'s; returns those activated.

    Pending shares that cannot become theirs go: one on a list they already
    have a direct share of (they joined by link first) and one on their own
    list (shared to their address before this service had heard of their
    account). Access through a group does not count: the share activates
    beside it, and outlasts it.
    """
    pending = aliased(S)
    await session.execute(
        delete(S).where(
            S.email == email,
            S.viewer_id.is_(None),
            or_(
                S.owner_id == user_id,
                exists().where(
                    pending.wishlist_id == S.wishlist_id,
                    pending.viewer_id == user_id,
                    pending.group_id.is_(None),
                ),
            ),
        )
    )
    rows = (
        await session.execute(
            update(S)
            .where(S.email == email, S.viewer_id.is_(None))
            .values(viewer_id=user_id, activated_at=func.now())
            .returning(S.id, S.wishlist_id)
        )
    ).all()
    return [Activation(share_id, wishlist_id) for share_id, wishlist_id in rows]


async def seen_otherwise(
    session: AsyncSession, viewer_id: uuid.UUID, shares: Sequence[Activation]
) -> set[uuid.UUID]:
    """Which of these shares' lists the viewer also reaches by another share (a group's)."""
    if not shares:
        return set()
    found = await session.scalars(
        select(S.wishlist_id).where(
            S.viewer_id == viewer_id,
            S.wishlist_id.in_([s.wishlist_id for s in shares]),
            S.id.not_in([s.share_id for s in shares]),
        )
    )
    return set(found)


async def remove_viewer(session: AsyncSession, viewer_id: uuid.UUID) -> None:
    await session.execute(delete(S).where(S.viewer_id == viewer_id))
