"""Login, refresh and logout: sessions and the tokens they issue."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from auth.api.cookies import IssuingTransport, RefreshTransportDep
from auth.api.deps import ClientAddress, DbSession, OptionalClaims, RuntimeDep
from auth.api.metrics import LOGIN_ATTEMPTS
from auth.api.routes import PREFIX
from auth.api.runtime import Runtime
from auth.api.schemas import LoginRequest, LogoutRequest, RefreshRequest, TokensOut
from auth.api.tokens import end_sessions, issue_tokens, revocation_seconds, start_session
from auth.db import sessions, users
from auth.db.alone import without_transaction
from auth.domain.errors import InvalidCredentials
from auth.domain.sessions import RefreshVerdict, hash_refresh_token, judge_refresh
from auth.domain.users import canonical_email
from wishlist_shared.problems import Problem

router = APIRouter(prefix=PREFIX, tags=["sessions"])
log = logging.getLogger(__name__)


@router.post("/login")
async def login(
    body: LoginRequest,
    db: DbSession,
    runtime: RuntimeDep,
    address: ClientAddress,
    transport: IssuingTransport,
) -> TokensOut:
    email = canonical_email(body.email)
    try:
        await runtime.throttle.check(email, address)
    except Problem:
        LOGIN_ATTEMPTS.labels("throttled").inc()
        raise
    # Read, then hash outside any transaction: no connection is held while the
    # CPU works.
    async with db.begin():
        await without_transaction(db)
        credentials = await users.credentials_by_email(db, email)
    verdict = await runtime.passwords.check(
        body.password, credentials.password_hash if credentials else None
    )
    if credentials is None or not verdict.ok:
        await runtime.throttle.failed(email, address)
        LOGIN_ATTEMPTS.labels("failed").inc()
        raise InvalidCredentials()
    await runtime.throttle.succeeded(email)
    LOGIN_ATTEMPTS.labels("success").inc()
    async with db.begin():
        if verdict.new_hash is not None:
            await users.set_password_hash(db, credentials.user_id, verdict.new_hash)
        tokens = await start_session(db, runtime, credentials.user_id)
    return transport.deliver(tokens)


@router.post("/refresh")
async def refresh(
    db: DbSession,
    runtime: RuntimeDep,
    transport: RefreshTransportDep,
    # Optional only for cookie mode; `transport.presented` keeps the 422 otherwise.
    body: RefreshRequest | None = None,
) -> TokensOut:
    presented = transport.presented(body)
    tokens = await _rotate(db, runtime, presented) if presented is not None else None
    # Raised after the transaction so that a revoked family stays revoked.
    if tokens is None:
        raise transport.refused()
    return transport.deliver(tokens)


async def _rotate(db: AsyncSession, runtime: Runtime, refresh_token: str) -> TokensOut | None:
    """The family's next tokens; None when ``refresh_token`` is not a live one."""
    token_hash = hash_refresh_token(refresh_token)
    async with db.begin():
        state = await sessions.lock_refresh_token(db, token_hash)
        verdict = judge_refresh(state, datetime.now(UTC)) if state else None
        if state is not None and verdict is RefreshVerdict.ROTATE:
            await sessions.spend_refresh_token(db, token_hash)
            return await issue_tokens(db, runtime, state.user_id, state.session_id)
        if state is not None and verdict is RefreshVerdict.REUSED:
            log.warning(
                "spent refresh token reused; revoking session %s of user %s",
                state.session_id,
                state.user_id,
            )
            await end_sessions(db, runtime, [state.session_id], "refresh token reused")
    return None


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    db: DbSession,
    runtime: RuntimeDep,
    caller: OptionalClaims,
    transport: RefreshTransportDep,
    body: LogoutRequest | None = None,
) -> Response:
    """Ends the refresh token's session, and the caller's if an access token came along.

    Logging out twice, or with a token already spent, still answers 204:
    the caller's goal, a dead session, holds either way. So does cookie mode
    without any cookie: the browser is told to drop it all the same.
    """
    presented = transport.presented(body)
    async with db.begin():
        ended: set[uuid.UUID] = set()
        if presented is not None:
            session_id = await sessions.session_of_refresh_token(db, hash_refresh_token(presented))
            if session_id is not None:
                ended.add(session_id)
        if caller is not None and caller.session_id is not None:
            ended.add(caller.session_id)
        # Sorted: rows are then locked in one order, so logouts cannot deadlock.
        await end_sessions(db, runtime, sorted(ended), "logout")
        if caller is not None:
            await runtime.revocations.revoke_token(
                caller.token_id, revocation_seconds(runtime, caller.seconds_left)
            )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    transport.forget(response)
    return response
