"""Queries on sessions and refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.db.tables import RefreshTokenRecord, SessionRecord
from auth.domain.sessions import RefreshTokenState


async def start_session(
    session: AsyncSession, user_id: uuid.UUID, token_hash: bytes, expires_at: datetime
) -> uuid.UUID:
    """A new session with its first refresh token, in one statement (one round trip)."""
    session_id = uuid.uuid4()
    new_session = (
        insert(SessionRecord)
        .values(id=session_id, user_id=user_id, expires_at=expires_at)
        .returning(SessionRecord.id)
        .cte("new_session")
    )
    await session.execute(
        insert(RefreshTokenRecord).from_select(
            ["session_id", "token_hash", "expires_at"],
            select(
                new_session.c.id,
                literal(token_hash, RefreshTokenRecord.token_hash.type),
                literal(expires_at, RefreshTokenRecord.expires_at.type),
            ),
        )
    )
    return session_id


async def add_refresh_token(
    session: AsyncSession, session_id: uuid.UUID, token_hash: bytes, expires_at: datetime
) -> None:
    session.add(
        RefreshTokenRecord(session_id=session_id, token_hash=token_hash, expires_at=expires_at)
    )
    await session.execute(
        update(SessionRecord).where(SessionRecord.id == session_id).values(expires_at=expires_at)
    )
    await session.flush()


async def lock_refresh_token(session: AsyncSession, token_hash: bytes) -> RefreshTokenState | None:
    """The token's state, locked with its session until the transaction ends.

    Two refreshes with the same token queue up here: the second sees the token
    spent by the first, which is exactly a reuse.
    """
    row = (
        await session.execute(
            select(
                RefreshTokenRecord.session_id,
                SessionRecord.user_id,
                RefreshTokenRecord.spent_at,
                RefreshTokenRecord.expires_at,
                SessionRecord.revoked_at,
            )
            .join(SessionRecord, SessionRecord.id == RefreshTokenRecord.session_id)
            .where(RefreshTokenRecord.token_hash == token_hash)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return None
    session_id, user_id, spent_at, expires_at, revoked_at = row
    return RefreshTokenState(
        session_id=session_id,
        user_id=user_id,
        spent=spent_at is not None,
        expires_at=expires_at,
        session_revoked=revoked_at is not None,
    )


async def spend_refresh_token(session: AsyncSession, token_hash: bytes) -> None:
    await session.execute(
        update(RefreshTokenRecord)
        .where(RefreshTokenRecord.token_hash == token_hash)
        .values(spent_at=func.now())
    )


async def session_of_refresh_token(session: AsyncSession, token_hash: bytes) -> uuid.UUID | None:
    return (
        await session.execute(
            select(RefreshTokenRecord.session_id).where(RefreshTokenRecord.token_hash == token_hash)
        )
    ).scalar_one_or_none()


async def live_sessions_of_user(
    session: AsyncSession, user_id: uuid.UUID, *, except_session: uuid.UUID | None = None
) -> list[uuid.UUID]:
    query = select(SessionRecord.id).where(
        SessionRecord.user_id == user_id, SessionRecord.revoked_at.is_(None)
    )
    if except_session is not None:
        query = query.where(SessionRecord.id != except_session)
    return list((await session.execute(query)).scalars())


async def revoke_sessions(
    session: AsyncSession, session_ids: Sequence[uuid.UUID], reason: str
) -> None:
    if not session_ids:
        return
    await session.execute(
        update(SessionRecord)
        .where(SessionRecord.id.in_(session_ids), SessionRecord.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
    )


async def prune_expired_sessions(session: AsyncSession, *, batch: int) -> int:
    """Deletes up to ``batch`` sessions whose last refresh token has expired (tokens cascade).

    The number deleted. Rows another transaction holds are skipped, not
    waited for: a replica pruning at the same time takes other ones.
    """
    expired = (
        select(SessionRecord.id)
        .where(SessionRecord.expires_at < func.now())
        .order_by(SessionRecord.expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        delete(SessionRecord).where(SessionRecord.id.in_(expired.scalar_subquery()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def revoked_since(session: AsyncSession, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Sessions revoked after ``since``, with when: their access tokens may still be alive."""
    rows = await session.execute(
        select(SessionRecord.id, SessionRecord.revoked_at).where(SessionRecord.revoked_at > since)
    )
    return [(sid, revoked_at) for sid, revoked_at in rows.tuples() if revoked_at is not None]
