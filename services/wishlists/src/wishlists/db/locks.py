"""Transaction-level advisory locks, keyed by what they serialise.

Row locks would do for the owner's own rows, but reservers may not lock an
item row: row-level security gives ``SELECT ... FOR UPDATE`` only to those who
may update the row, and only the owner may. An advisory lock needs no rights
on any row and ends with the transaction, so a crash can never leave it held.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


def _locking(key: str) -> Any:
    return func.pg_advisory_xact_lock(func.hashtextextended(key, 0))


async def _lock(session: AsyncSession, key: str) -> None:
    await session.execute(select(_locking(key)))


def item_reservations(item_id: uuid.UUID) -> Any:
    """:func:`lock_item_reservations` as a column of another query, which takes the lock
    as it runs; statements after that one see every reservation committed before it."""
    return _locking(f"wishlists.item:{item_id}").label("item_locked")


async def lock_item_reservations(session: AsyncSession, item_id: uuid.UUID) -> None:
    """Serialises reservations of one item: the check "enough left" and the insert act as one."""
    await session.execute(select(item_reservations(item_id)))


async def lock_owner(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Serialises creating lists of one owner, so their count stays within the limit."""
    await _lock(session, f"wishlists.owner:{owner_id}")


async def lock_email(session: AsyncSession, email: str) -> None:
    """Serialises sharing with an address and learning who registered with it.

    Without it, a share made while the registration event is being handled
    could miss the new account (the share sees no user yet) and be missed by
    the activation (which sees no share yet), and stay pending for good.
    """
    await _lock(session, f"wishlists.email:{email}")


async def lock_group(session: AsyncSession, group_id: uuid.UUID) -> None:
    """Serialises every change to a group's members and to the lists shared with it.

    Each change makes the rows of access the other side needs: a member
    joining gets a row for every list shared with the group, a list shared
    gets one for every member. Without the lock, a member joining while a list
    is being shared would be missed by both (each reads the other's rows as
    they were before) and never see the list. Taken after :func:`lock_email`
    wherever both are, so the two never wait for each other the other way round.
    """
    await _lock(session, f"wishlists.group:{group_id}")


async def lock_groups_of(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Serialises creating groups of one owner, so their count stays within the limit."""
    await _lock(session, f"wishlists.group-owner:{owner_id}")
