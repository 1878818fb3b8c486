"""Sharing a list with groups: ``/api/v1/wishlists/{id}/groups``.

Only the list's owner, and only with a group they are in: every active
member of it (the owner of the list aside) becomes a viewer, members who join
later included, until the list leaves the group.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from wishlists.api.access import hold, reach
from wishlists.api.deps import Claims, DbSession, PageParams
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import GroupShareCreate, GroupShareOut, GroupSharePage
from wishlists.db import groups as group_rows
from wishlists.db import locks, scope
from wishlists.domain.access import require_owner
from wishlists.domain.errors import GroupNotFound, LimitReached
from wishlists.domain.groups import require_member
from wishlists.domain.limits import MAX_GROUPS_PER_WISHLIST
from wishlists.events import group_access

router = APIRouter(prefix=WISHLISTS, tags=["groups"])


@router.post(
    "/{wishlist_id}/groups",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": GroupShareOut, "description": "Already shared with the group"}},
)
async def share_with_group(
    wishlist_id: uuid.UUID,
    body: GroupShareCreate,
    claims: Claims,
    db: DbSession,
    response: Response,
) -> GroupShareOut:
    """Shares the list with a group the caller is in; each member who could not see the
    list before is told. Sharing again answers 200.
    """
    owner = claims.subject
    async with scope.for_user(db, owner):
        reached = await reach(db, wishlist_id, owner)
        require_owner(reached.role)
        # The group's lock before the list's row, as a member joining takes them.
        await locks.lock_group(db, body.group_id)
        require_member(await group_rows.role(db, body.group_id, owner))
        await hold(db, wishlist_id)
        existing = await group_rows.group_share(db, wishlist_id, body.group_id)
        if existing is not None:
            response.status_code = status.HTTP_200_OK
            return GroupShareOut.of(existing)
        if await group_rows.count_groups_of(db, wishlist_id) >= MAX_GROUPS_PER_WISHLIST:
            raise LimitReached("groups per wishlist", MAX_GROUPS_PER_WISHLIST)
        shared = await group_rows.share_list(db, wishlist_id, owner, body.group_id)
        async with scope.elevated(db):
            # The list's owner reads the group's other members, and its member count.
            group = await group_rows.one(db, body.group_id, owner)
            assert group is not None  # the caller's membership was checked under the lock
            views = await group_rows.give_members_the_list(db, wishlist_id, owner, body.group_id)
            await group_access.announce(db, group, views)
    return GroupShareOut.of(shared)


@router.get("/{wishlist_id}/groups")
async def list_group_shares(
    wishlist_id: uuid.UUID, claims: Claims, db: DbSession, page: PageParams
) -> GroupSharePage:
    """The groups the list is shared with, the most recent first."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        found = await group_rows.group_shares_page(db, wishlist_id, page)
    return GroupSharePage(
        items=[GroupShareOut.of(s) for s in found.items], next_cursor=found.next_cursor
    )


@router.delete("/{wishlist_id}/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unshare_with_group(
    wishlist_id: uuid.UUID, group_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """The list leaves the group; its members lose the access the group gave them (not
    access they have another way)."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        await locks.lock_group(db, group_id)
        if not await group_rows.unshare_list(db, wishlist_id, group_id):
            raise GroupNotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
