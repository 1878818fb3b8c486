"""Groups and their members: ``/api/v1/groups``.

Anyone who is not a member of a group is told there is no such group (404);
a member who tries what only its owner may do gets 403 ``not-group-owner``.
Every change of a group's members runs under the group's lock (see
:func:`wishlists.db.locks.lock_group`).

Row-level security shows a member only their own membership. Their fellow
members, member counts and the lists shared with the group are read
elevated, and only once the caller's membership is established: the queries
are of that one group (or of the caller's own memberships).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.api.deps import Claims, DbSession, PageParams
from wishlists.api.routes import GROUPS
from wishlists.api.schemas import (
    GroupCreate,
    GroupDetailOut,
    GroupOut,
    GroupPage,
    GroupPatch,
    GroupWishlistOut,
    MemberCreate,
    MemberOut,
)
from wishlists.db import groups as group_rows
from wishlists.db import locks, scope, users
from wishlists.domain.errors import (
    FieldError,
    GroupNotFound,
    GroupOwnerStays,
    InvalidInput,
    LimitReached,
    MemberNotFound,
)
from wishlists.domain.groups import (
    Group,
    GroupRole,
    require_group_owner,
    require_may_remove,
    require_member,
)
from wishlists.domain.limits import MAX_GROUPS_PER_OWNER, MAX_MEMBERS_PER_GROUP
from wishlists.events import group_access, publishing

router = APIRouter(prefix=GROUPS, tags=["groups"])


async def _group(db: AsyncSession, group_id: uuid.UUID, caller: uuid.UUID) -> Group:
    """The group as the caller sees it; :class:`GroupNotFound` unless they are a member.

    Elevated for the count of members; the query is of the caller's own membership.
    """
    async with scope.elevated(db):
        group = await group_rows.one(db, group_id, caller)
    if group is None:
        raise GroupNotFound()
    return group


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_group(body: GroupCreate, claims: Claims, db: DbSession) -> GroupOut:
    """A new group with the caller as its owner and only member."""
    owner = claims.subject
    async with scope.for_user(db, owner):
        await locks.lock_groups_of(db, owner)
        if await group_rows.count_owned(db, owner) >= MAX_GROUPS_PER_OWNER:
            raise LimitReached("groups per owner", MAX_GROUPS_PER_OWNER)
        group = await group_rows.create(db, owner, body.name)
    return GroupOut.of(group)


@router.get("")
async def list_groups(claims: Claims, db: DbSession, page: PageParams) -> GroupPage:
    """The caller's groups, owned and joined, the most recently joined first."""
    async with scope.for_user(db, claims.subject), scope.elevated(db):
        # Elevated for the member counts; every row is one of the caller's memberships.
        found = await group_rows.page_of_member(db, claims.subject, page)
    return GroupPage(items=[GroupOut.of(g) for g in found.items], next_cursor=found.next_cursor)


@router.get("/{group_id}")
async def read_group(group_id: uuid.UUID, claims: Claims, db: DbSession) -> GroupDetailOut:
    """The group with its members (addresses for its owner only) and the lists shared with it."""
    async with scope.for_user(db, claims.subject):
        group = await _group(db, group_id, claims.subject)
        async with scope.elevated(db):
            members = await group_rows.members(db, group_id)
            wishlists = await group_rows.wishlists_of(db, group_id)
    return GroupDetailOut(
        **GroupOut.of(group).model_dump(),
        members=[MemberOut.of(m, shown_to=group.role) for m in members],
        wishlists=[GroupWishlistOut.of(w) for w in wishlists],
    )


@router.patch("/{group_id}")
async def rename_group(
    group_id: uuid.UUID, body: GroupPatch, claims: Claims, db: DbSession
) -> GroupOut:
    caller = claims.subject
    async with scope.for_user(db, caller):
        require_group_owner(await group_rows.role(db, group_id, caller))
        if body.name is not None:
            await group_rows.rename(db, group_id, body.name)
        group = await _group(db, group_id, caller)
    return GroupOut.of(group)


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(group_id: uuid.UUID, claims: Claims, db: DbSession) -> Response:
    """The group goes; its members lose the access it gave (not access they have otherwise)."""
    caller = claims.subject
    async with scope.for_user(db, caller):
        await locks.lock_group(db, group_id)
        require_group_owner(await group_rows.role(db, group_id, caller))
        await group_rows.delete_group(db, group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{group_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": MemberOut, "description": "Already a member or invited"}},
)
async def add_member(
    group_id: uuid.UUID, body: MemberCreate, claims: Claims, db: DbSession, response: Response
) -> MemberOut:
    """Adds whoever registered with the address at once (they see the group's lists from
    now on); otherwise invites the address: the membership is pending until someone
    registers with it. Adding an address again answers 200 with what is there.
    """
    owner = claims.subject
    async with scope.for_user(db, owner):
        # The address's lock first, as the registration handler takes them.
        await locks.lock_email(db, body.email)
        await locks.lock_group(db, group_id)
        require_group_owner(await group_rows.role(db, group_id, owner))
        user_id = await users.user_with_email(db, body.email)
        if user_id == owner or body.email == await users.email_of(db, owner):
            raise InvalidInput([FieldError("body.email", "is your own address")])
        existing = await group_rows.find_member(db, group_id, body.email, user_id)
        if existing is not None:
            response.status_code = status.HTTP_200_OK
            return MemberOut.of(existing, shown_to="owner")
        if await group_rows.count_members(db, group_id) >= MAX_MEMBERS_PER_GROUP:
            raise LimitReached("members per group", MAX_MEMBERS_PER_GROUP)
        group = await _group(db, group_id, owner)
        added = await group_rows.add_member(db, group, body.email, user_id)
        if user_id is not None:
            async with scope.elevated(db):
                # Rows of access to the lists of other members: see member_joined.
                await group_access.member_joined(db, group, member_id=added.id, user_id=user_id)
        else:
            await publishing.group_invited(db, group, membership_id=added.id, email=body.email)
    return MemberOut.of(added, shown_to="owner")


async def _remove(
    db: AsyncSession,
    group_id: uuid.UUID,
    caller: uuid.UUID,
    role: GroupRole | None,
    member_id: uuid.UUID,
) -> None:
    async with scope.elevated(db):
        # A member reads another's membership only to be told 403 rather than 404:
        # they see the group's members anyway.
        member = await group_rows.member(db, group_id, member_id)
    if member is None:
        raise MemberNotFound()
    require_may_remove(caller, role, member)
    async with scope.elevated(db):
        # The owner removes the member's lists from the group too (see remove_member).
        await group_rows.remove_member(db, member)


@router.delete("/{group_id}/members/me", status_code=status.HTTP_204_NO_CONTENT)
async def leave_group(group_id: uuid.UUID, claims: Claims, db: DbSession) -> Response:
    """The caller leaves the group: they lose the access it gave, and their lists leave it."""
    caller = claims.subject
    async with scope.for_user(db, caller):
        await locks.lock_group(db, group_id)
        role = require_member(await group_rows.role(db, group_id, caller))
        if role == "owner":
            raise GroupOwnerStays()
        await group_rows.leave(db, group_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{group_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    group_id: uuid.UUID, member_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """The owner removes a member or withdraws an invitation; a member may remove themselves.

    The member loses the access the group gave, and their lists leave the group.
    """
    caller = claims.subject
    async with scope.for_user(db, caller):
        await locks.lock_group(db, group_id)
        role = require_member(await group_rows.role(db, group_id, caller))
        await _remove(db, group_id, caller, role, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
