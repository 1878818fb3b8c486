"""The events auth publishes, each added to the outbox inside the caller's transaction.

The outbox relay sends them to RabbitMQ after the commit; a rolled-back
change therefore never announces itself, and a committed one always does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.db.tables import outbox
from auth.domain.users import User
from wishlist_shared.events import (
    PasswordResetRequested,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from wishlist_shared.outbox import add_event


async def user_registered(session: AsyncSession, user: User) -> None:
    await add_event(
        session,
        outbox,
        UserRegistered(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            created_at=user.created_at,
        ),
    )


async def user_updated(session: AsyncSession, user: User) -> None:
    await add_event(
        session,
        outbox,
        UserUpdated(user_id=user.id, email=user.email, display_name=user.display_name),
    )


async def user_deleted(session: AsyncSession, user_id: uuid.UUID) -> None:
    await add_event(session, outbox, UserDeleted(user_id=user_id))


async def password_reset_requested(
    session: AsyncSession, user: User, reset_token: str, expires_at: datetime
) -> None:
    """The one event that carries a secret: the notifier must mail the token to the account."""
    await add_event(
        session,
        outbox,
        PasswordResetRequested(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            reset_token=reset_token,
            expires_at=expires_at,
        ),
    )
