"""Issuing and ending sessions: database rows, signed access tokens, the revocation list.

A session is the family of refresh tokens that one login starts; each access
token names its session (``sid``), so ending a session in the revocation list
kills its access tokens at once, on every service that checks them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth.api.runtime import Runtime
from auth.api.schemas import TokensOut
from auth.db import sessions
from auth.domain.sessions import access_claims, hash_refresh_token, new_refresh_token


def _refresh_expiry(runtime: Runtime) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=runtime.settings.refresh_token_ttl_seconds)


async def start_session(db: AsyncSession, runtime: Runtime, user_id: uuid.UUID) -> TokensOut:
    """A new session (a login) with its first pair of tokens."""
    refresh_token = new_refresh_token()
    session_id = await sessions.start_session(
        db, user_id, hash_refresh_token(refresh_token), _refresh_expiry(runtime)
    )
    return await _tokens(db, runtime, user_id, session_id, refresh_token)


async def issue_tokens(
    db: AsyncSession, runtime: Runtime, user_id: uuid.UUID, session_id: uuid.UUID
) -> TokensOut:
    """Adds the session's next refresh token and signs an access token for it."""
    refresh_token = new_refresh_token()
    await sessions.add_refresh_token(
        db, session_id, hash_refresh_token(refresh_token), _refresh_expiry(runtime)
    )
    return await _tokens(db, runtime, user_id, session_id, refresh_token)


async def _tokens(
    db: AsyncSession,
    runtime: Runtime,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    refresh_token: str,
) -> TokensOut:
    """``refresh_token`` (already stored) with an access token signed for its session."""
    settings = runtime.settings
    claims = access_claims(
        user_id=user_id,
        session_id=session_id,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        now=int(time.time()),
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return TokensOut(
        access_token=await runtime.keys.sign(db, claims),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
    )


async def end_sessions(
    db: AsyncSession, runtime: Runtime, session_ids: Sequence[uuid.UUID], reason: str
) -> None:
    """Revokes the sessions, their refresh tokens and their access tokens.

    Called inside the transaction and before its commit: if Redis fails, the
    request fails and nothing changes; if the commit fails after Redis, the
    access tokens are dead a little early, which is the safe way round.
    """
    if not session_ids:
        return
    await sessions.revoke_sessions(db, session_ids, reason)
    await runtime.revocations.revoke_sessions(list(session_ids), revocation_seconds(runtime))


def revocation_seconds(runtime: Runtime, seconds_left: int | None = None) -> int:
    """How long a token (by default, any token of a session) may still be valid."""
    return runtime.settings.access_token_ttl_seconds if seconds_left is None else seconds_left
