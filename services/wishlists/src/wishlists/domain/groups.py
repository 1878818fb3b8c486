"""Groups as the rules see them: who is in one, and who may do what to it.

A group has one owner (who made it) and members; a list shared with it is
seen by every active member. Anyone who is not a member is told there is no
such group (404), as for lists; a member who tries what only the owner may
do gets a 403, since they see the group anyway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from wishlists.domain.errors import GroupNotFound, GroupOwnerStays, NotGroupOwner

GroupRole = Literal["owner", "member"]


@dataclass(frozen=True)
class Group:
    """A group as one of its members sees it."""

    id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    owner_display_name: str | None
    role: GroupRole
    """The caller's."""
    member_count: int
    """Active members, the owner included."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    """A membership, or an invitation of an address nobody has registered with yet."""

    id: uuid.UUID
    group_id: uuid.UUID
    user_id: uuid.UUID | None
    display_name: str | None
    email: str | None
    """The address invited; None for the owner's own membership."""
    role: GroupRole
    created_at: datetime
    joined_at: datetime | None

    @property
    def status(self) -> Literal["pending", "active"]:
        return "pending" if self.user_id is None else "active"


@dataclass(frozen=True)
class GroupWishlist:
    """A list shared with a group, as its members see it named."""

    id: uuid.UUID
    title: str
    owner_id: uuid.UUID
    owner_display_name: str | None
    occasion_date: date | None


@dataclass(frozen=True)
class GroupShare:
    """One group a list is shared with, as the list's owner sees it."""

    group_id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class NewView:
    """A row of access a group gave to someone who could not see the list before."""

    share_id: uuid.UUID
    wishlist_id: uuid.UUID
    viewer_id: uuid.UUID


def require_member(role: GroupRole | None) -> GroupRole:
    """A member (or the owner); anyone else is told there is no such group."""
    if role is None:
        raise GroupNotFound()
    return role


def require_group_owner(role: GroupRole | None) -> None:
    if require_member(role) != "owner":
        raise NotGroupOwner()


def require_may_remove(caller: uuid.UUID, role: GroupRole | None, member: Member) -> None:
    """The owner may remove anyone but themselves; a member only themselves (leaving)."""
    mine = member.user_id == caller
    if require_member(role) != "owner" and not mine:
        raise NotGroupOwner()
    if member.role == "owner":
        raise GroupOwnerStays()


def shown_email(member: Member, role: GroupRole) -> str | None:
    """Addresses are the owner's business: they typed them. Other members see names."""
    return member.email if role == "owner" else None
