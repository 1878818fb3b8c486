"""Who may do what: owner, viewer, nobody; and what each refusal looks like."""

from __future__ import annotations

import uuid

import pytest

from wishlists.domain.access import Role, require_owner, require_sight, require_viewer, role_of
from wishlists.domain.errors import NotOwner, OwnerCannotReserve, WishlistNotFound

OWNER = uuid.uuid4()
SOMEONE = uuid.uuid4()


def test_the_owner_is_the_owner_even_if_listed_as_a_viewer() -> None:
    assert role_of(OWNER, OWNER, is_viewer=True) is Role.OWNER


def test_an_active_share_makes_a_viewer_and_nothing_else_does() -> None:
    assert role_of(SOMEONE, OWNER, is_viewer=True) is Role.VIEWER
    assert role_of(SOMEONE, OWNER, is_viewer=False) is Role.NOBODY
    assert role_of(None, OWNER, is_viewer=True) is Role.NOBODY


def test_nobody_is_told_there_is_no_such_list_on_every_kind_of_request() -> None:
    for require in (require_sight, require_owner, require_viewer):
        with pytest.raises(WishlistNotFound):
            require(Role.NOBODY)


def test_a_viewer_may_look_and_reserve_but_not_manage() -> None:
    require_sight(Role.VIEWER)
    require_viewer(Role.VIEWER)
    with pytest.raises(NotOwner):
        require_owner(Role.VIEWER)


def test_the_owner_may_manage_but_not_reserve() -> None:
    require_sight(Role.OWNER)
    require_owner(Role.OWNER)
    with pytest.raises(OwnerCannotReserve):
        require_viewer(Role.OWNER)
