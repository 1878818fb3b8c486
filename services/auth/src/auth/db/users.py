"""Queries on users: one function per use case, returning domain objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.db.tables import UserRecord
from auth.domain.errors import EmailTaken
from auth.domain.users import User

_USER_COLUMNS = (UserRecord.id, UserRecord.email, UserRecord.display_name, UserRecord.created_at)


@dataclass(frozen=True)
class Credentials:
    user_id: uuid.UUID
    email: str
    password_hash: str


async def insert_user(
    session: AsyncSession, *, email: str, display_name: str, password_hash: str
) -> User:
    """Creates the user; :class:`EmailTaken` when the address is in use in any letter case."""
    statement = (
        insert(UserRecord)
        .values(
            id=uuid.uuid4(), email=email, display_name=display_name, password_hash=password_hash
        )
        # The unique index is on lower(email); a conflict there is a taken
        # address, told apart without aborting the transaction.
        .on_conflict_do_nothing(index_elements=[func.lower(UserRecord.email)])
        .returning(*_USER_COLUMNS)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise EmailTaken()
    return User(*row)


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    row = (
        await session.execute(select(*_USER_COLUMNS).where(UserRecord.id == user_id))
    ).one_or_none()
    return User(*row) if row else None


async def user_by_email(session: AsyncSession, email: str, *, lock: bool = False) -> User | None:
    """The user with this (canonical) address; ``lock`` holds their row until the commit."""
    query = select(*_USER_COLUMNS).where(func.lower(UserRecord.email) == email)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return User(*row) if row else None


async def credentials_by_email(session: AsyncSession, email: str) -> Credentials | None:
    row = (
        await session.execute(
            select(UserRecord.id, UserRecord.email, UserRecord.password_hash).where(
                func.lower(UserRecord.email) == email
            )
        )
    ).one_or_none()
    return Credentials(*row) if row else None


async def credentials_by_id(session: AsyncSession, user_id: uuid.UUID) -> Credentials | None:
    row = (
        await session.execute(
            select(UserRecord.id, UserRecord.email, UserRecord.password_hash).where(
                UserRecord.id == user_id
            )
        )
    ).one_or_none()
    return Credentials(*row) if row else None


async def set_display_name(
    session: AsyncSession, user_id: uuid.UUID, display_name: str
) -> User | None:
    row = (
        await session.execute(
            update(UserRecord)
            .where(UserRecord.id == user_id)
            .values(display_name=display_name, updated_at=func.now())
            .returning(*_USER_COLUMNS)
        )
    ).one_or_none()
    return User(*row) if row else None


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> bool:
    result = await session.execute(
        update(UserRecord)
        .where(UserRecord.id == user_id)
        .values(password_hash=password_hash, updated_at=func.now())
        .returning(UserRecord.id)
    )
    return result.one_or_none() is not None


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Deletes the user and, by cascade, their sessions, refresh and reset tokens."""
    result = await session.execute(
        delete(UserRecord).where(UserRecord.id == user_id).returning(UserRecord.id)
    )
    return result.one_or_none() is not None
