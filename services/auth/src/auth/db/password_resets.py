"""Queries on password-reset tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.db.tables import PasswordResetTokenRecord

R = PasswordResetTokenRecord


async def replace_tokens(
    session: AsyncSession, user_id: uuid.UUID, token_hash: bytes, expires_at: datetime
) -> None:
    """Makes ``token_hash`` the user's only reset token: earlier links stop working.

    Spent and expired rows go with them, so an account never has more than a
    row or two here.
    """
    await session.execute(delete(R).where(R.user_id == user_id))
    session.add(R(user_id=user_id, token_hash=token_hash, expires_at=expires_at))
    await session.flush()


async def is_usable(session: AsyncSession, token_hash: bytes) -> bool:
    """Whether the token may reset a password now; a cheap look before hashing the password."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    R.token_hash == token_hash, R.spent_at.is_(None), R.expires_at > func.now()
                )
            )
        )
    )


async def spend(session: AsyncSession, token_hash: bytes) -> uuid.UUID | None:
    """Spends the token if it is usable; its user, or None.

    One statement that checks and spends: of two confirmations with the same
    token, the second waits for the first's row lock, then finds the token
    spent and matches nothing.
    """
    return (
        await session.execute(
            update(R)
            .where(R.token_hash == token_hash, R.spent_at.is_(None), R.expires_at > func.now())
            .values(spent_at=func.now())
            .returning(R.user_id)
        )
    ).scalar_one_or_none()


async def discard_unspent(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(R).where(R.user_id == user_id, R.spent_at.is_(None)))
