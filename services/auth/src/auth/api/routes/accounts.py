"""Registration and the caller's own account: ``/register`` and ``/me``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from auth.api.deps import Claims, ClientAddress, DbSession, RuntimeDep
from auth.api.routes import PREFIX
from auth.api.schemas import ChangePasswordRequest, RegisterRequest, UpdateMeRequest, UserOut
from auth.api.tokens import end_sessions
from auth.db import sessions, users
from auth.db.alone import without_transaction
from auth.domain.errors import AccountGone, WrongPassword
from auth.events import publishing

router = APIRouter(prefix=PREFIX, tags=["accounts"])


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, db: DbSession, runtime: RuntimeDep) -> UserOut:
    password_hash = await runtime.passwords.hash(body.password)
    async with db.begin():
        user = await users.insert_user(
            db, email=body.email, display_name=body.display_name, password_hash=password_hash
        )
        await publishing.user_registered(db, user)
    return UserOut.of(user)


@router.get("/me")
async def read_me(claims: Claims, db: DbSession) -> UserOut:
    async with db.begin():
        user = await users.user_by_id(db, claims.subject)
    if user is None:
        raise AccountGone()
    return UserOut.of(user)


@router.patch("/me")
async def update_me(body: UpdateMeRequest, claims: Claims, db: DbSession) -> UserOut:
    async with db.begin():
        user = await users.set_display_name(db, claims.subject, body.display_name)
        if user is None:
            raise AccountGone()
        await publishing.user_updated(db, user)
    return UserOut.of(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: ChangePasswordRequest,
    claims: Claims,
    db: DbSession,
    runtime: RuntimeDep,
    address: ClientAddress,
) -> Response:
    """Sets a new password and ends every other session of the account.

    Wrong current passwords count as failed logins: a stolen access token must
    not become a way to guess the password without limit.
    """
    async with db.begin():
        await without_transaction(db)
        credentials = await users.credentials_by_id(db, claims.subject)
    if credentials is None:
        raise AccountGone()
    await runtime.throttle.check(credentials.email, address)
    verdict = await runtime.passwords.check(body.current_password, credentials.password_hash)
    if not verdict.ok:
        await runtime.throttle.failed(credentials.email, address)
        raise WrongPassword()
    new_hash = await runtime.passwords.hash(body.new_password)
    async with db.begin():
        if not await users.set_password_hash(db, claims.subject, new_hash):
            raise AccountGone()
        others = await sessions.live_sessions_of_user(
            db, claims.subject, except_session=claims.session_id
        )
        await end_sessions(db, runtime, others, "password changed")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(claims: Claims, db: DbSession, runtime: RuntimeDep) -> Response:
    """Deletes the account here; ``auth.user_deleted.v1`` makes every other service follow."""
    async with db.begin():
        live = await sessions.live_sessions_of_user(db, claims.subject)
        # Revoked in Redis before the rows go (they cascade with the user).
        await end_sessions(db, runtime, live, "account deleted")
        if not await users.delete_user(db, claims.subject):
            raise AccountGone()
        await publishing.user_deleted(db, claims.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
