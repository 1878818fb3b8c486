"""The local projection of users, kept from auth's events: ids, addresses, display names."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wishlists.db.tables import DeletedUserRecord, UserRecord


async def is_deleted(session: AsyncSession, user_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(DeletedUserRecord.id == user_id))))


async def save_profile(
    session: AsyncSession, user_id: uuid.UUID, email: str, display_name: str, at: datetime
) -> bool:
    """Records the user's profile as of ``at``; False when a newer one is already here.

    Registration and update events travel on different queues and may come in
    either order; the newest by time of occurrence wins.
    """
    new = insert(UserRecord).values(
        id=user_id, email=email, display_name=display_name, profile_at=at
    )
    statement = new.on_conflict_do_update(
        index_elements=[UserRecord.id],
        set_={
            "email": new.excluded.email,
            "display_name": new.excluded.display_name,
            "profile_at": new.excluded.profile_at,
        },
        where=UserRecord.profile_at < new.excluded.profile_at,
    ).returning(UserRecord.id)
    return (await session.execute(statement)).first() is not None


async def forget(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Drops the user's profile and remembers that the account is gone."""
    await session.execute(delete(UserRecord).where(UserRecord.id == user_id))
    await session.execute(insert(DeletedUserRecord).values(id=user_id).on_conflict_do_nothing())


async def email_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    return await session.scalar(select(UserRecord.email).where(UserRecord.id == user_id))


async def user_with_email(session: AsyncSession, email: str) -> uuid.UUID | None:
    """The user registered with ``email`` (canonical form), if this service knows of one."""
    return await session.scalar(
        select(UserRecord.id)
        .where(UserRecord.email == email)
        .order_by(UserRecord.profile_at.desc())
        .limit(1)
    )
