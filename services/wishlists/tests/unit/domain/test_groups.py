"""Who may do what to a group: strangers learn nothing, members may leave, the owner stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from wishlists.domain.errors import GroupNotFound, GroupOwnerStays, NotGroupOwner
from wishlists.domain.groups import (
    GroupRole,
    Member,
    require_group_owner,
    require_may_remove,
    require_member,
    shown_email,
)

OWNER, MEMBER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _member(user_id: uuid.UUID | None, role: GroupRole = "member") -> Member:
    email = None if role == "owner" else "someone@example.com"
    joined = None if user_id is None else NOW
    return Member(uuid.uuid4(), uuid.uuid4(), user_id, None, email, role, NOW, joined)


def test_someone_outside_the_group_is_told_there_is_none() -> None:
    with pytest.raises(GroupNotFound):
        require_member(None)
    with pytest.raises(GroupNotFound):
        require_group_owner(None)
    with pytest.raises(GroupNotFound):
        require_may_remove(OTHER, None, _member(MEMBER))


def test_a_member_sees_the_group_but_may_not_manage_it() -> None:
    assert require_member("member") == "member"
    with pytest.raises(NotGroupOwner):
        require_group_owner("member")
    require_group_owner("owner")


@pytest.mark.parametrize(
    ("caller", "role", "target", "refused"),
    [
        (OWNER, "owner", _member(MEMBER), None),
        (OWNER, "owner", _member(None), None),
        (MEMBER, "member", _member(MEMBER), None),
        (MEMBER, "member", _member(OTHER), NotGroupOwner),
        (MEMBER, "member", _member(None), NotGroupOwner),
        (MEMBER, "member", _member(OWNER, "owner"), NotGroupOwner),
        (OWNER, "owner", _member(OWNER, "owner"), GroupOwnerStays),
    ],
)
def test_who_may_remove_whom(
    caller: uuid.UUID, role: GroupRole, target: Member, refused: type[Exception] | None
) -> None:
    if refused is None:
        require_may_remove(caller, role, target)
    else:
        with pytest.raises(refused):
            require_may_remove(caller, role, target)


def test_addresses_are_shown_to_the_owner_only() -> None:
    member = _member(MEMBER)
    assert shown_email(member, "owner") == "someone@example.com"
    assert shown_email(member, "member") is None
    assert _member(None).status == "pending"
    assert member.status == "active"
