"""Who may do what to a wishlist: its owner, its viewers, nobody else.

The API asks :func:`role_of` once per request and then one of the ``require``
functions; everything a caller may not see fails the same way as what does
not exist (404), so a probe learns nothing. Row-level security in PostgreSQL
holds the same line a second time (see the migrations).
"""

from __future__ import annotations

import uuid
from enum import Enum

from wishlists.domain.errors import (
    NotOwner,
    OwnerCannotReserve,
    OwnerCannotSuggest,
    WishlistNotFound,
)


class Role(Enum):
    OWNER = "owner"
    VIEWER = "viewer"
    NOBODY = "nobody"


def role_of(caller: uuid.UUID | None, owner_id: uuid.UUID, *, is_viewer: bool) -> Role:
    """The caller's role on a list owned by ``owner_id``; ``is_viewer``: an active share."""
    if caller is None:
        return Role.NOBODY
    if caller == owner_id:
        return Role.OWNER
    return Role.VIEWER if is_viewer else Role.NOBODY


def require_sight(role: Role) -> None:
    """Owner or viewer; anyone else is told there is no such list."""
    if role is Role.NOBODY:
        raise WishlistNotFound()


def require_owner(role: Role) -> None:
    """The owner. A viewer sees the list already, so a 403 tells them nothing new."""
    require_sight(role)
    if role is not Role.OWNER:
        raise NotOwner()


def require_viewer(role: Role) -> None:
    """A viewer: reservations are theirs alone. The owner gets a 403, as SPEC says."""
    require_sight(role)
    if role is Role.OWNER:
        raise OwnerCannotReserve()


def require_suggester(role: Role) -> None:
    """A viewer: suggestions are for someone else's list. The owner gets a 403."""
    require_sight(role)
    if role is Role.OWNER:
        raise OwnerCannotSuggest()
