"""Forgotten passwords: ``/password-reset`` mails a single-use link, ``/confirm`` uses it.

Asking for a reset answers 202 at once, before anything about the address is
known, and does the work in a background task after the response has gone:
the throttle, the account lookup and, for an existing account, the token and
its event. Every request therefore answers the same thing in the same time,
whether or not an account has the address; waiting on the lookup, or on
writing a token only some addresses get, would tell the two apart.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Response, status

from auth.api.deps import DbSession, RuntimeDep
from auth.api.metrics import PASSWORD_RESET_REQUESTS
from auth.api.routes import PREFIX
from auth.api.runtime import Runtime
from auth.api.schemas import PasswordResetAccepted, PasswordResetConfirm, PasswordResetRequest
from auth.api.tokens import end_sessions
from auth.db import password_resets, sessions, users
from auth.domain.errors import InvalidResetToken
from auth.domain.password_resets import hash_reset_token, issue_reset
from auth.events import publishing

router = APIRouter(prefix=PREFIX, tags=["password reset"])
log = logging.getLogger(__name__)


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(
    body: PasswordResetRequest, runtime: RuntimeDep, background: BackgroundTasks
) -> PasswordResetAccepted:
    """Emails a reset link to the address if an account has it.

    Always 202, and nothing in the answer or its timing says whether an
    account exists. A few requests per address an hour send an email; the
    rest are accepted and dropped.
    """
    background.add_task(_handle_reset_request, runtime, body.email)
    return PasswordResetAccepted()


async def _handle_reset_request(runtime: Runtime, email: str) -> None:
    try:
        outcome = await _issue_reset(runtime, email)
    except Exception:
        # After the response nobody is left to tell; the log and the metric
        # are where an operator sees it.
        log.exception("could not handle a password-reset request")
        outcome = "failed"
    PASSWORD_RESET_REQUESTS.labels(outcome).inc()


async def _issue_reset(runtime: Runtime, email: str) -> str:
    # Counted before the lookup, for unknown addresses too: the budget is
    # the inbox's, whoever owns it.
    if not await runtime.reset_throttle.allow(email):
        return "throttled"
    async with runtime.sessions() as db, db.begin():
        # Locked so that two requests at once still leave one live token.
        user = await users.user_by_email(db, email, lock=True)
        if user is None:
            return "unknown"
        issued = issue_reset(datetime.now(UTC), runtime.settings.password_reset_ttl_seconds)
        await password_resets.replace_tokens(db, user.id, issued.token_hash, issued.expires_at)
        await publishing.password_reset_requested(db, user, issued.token, issued.expires_at)
    return "sent"


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    body: PasswordResetConfirm, db: DbSession, runtime: RuntimeDep
) -> Response:
    """Sets the new password and ends every session of the account.

    The token works once, until it expires; any token that does not work,
    whatever the reason, gets the same 400.
    """
    token_hash = hash_reset_token(body.token)
    # A cheap look first: a made-up token must not cost an Argon2 hash.
    async with db.begin():
        usable = await password_resets.is_usable(db, token_hash)
    if not usable:
        raise InvalidResetToken()
    new_hash = await runtime.passwords.hash(body.new_password)
    async with db.begin():
        # The check that counts: whoever loses a race for the token gets None.
        user_id = await password_resets.spend(db, token_hash)
        if user_id is None or not await users.set_password_hash(db, user_id, new_hash):
            raise InvalidResetToken()
        await password_resets.discard_unspent(db, user_id)
        credentials = await users.credentials_by_id(db, user_id)
        # Whoever had a session may be the reason for the reset: all of them end,
        # access tokens included.
        live = await sessions.live_sessions_of_user(db, user_id)
        await end_sessions(db, runtime, sorted(live), "password reset")
    if credentials is not None:
        # The owner proved they hold the address: earlier failed logins no
        # longer lock them out of the account they just recovered.
        await runtime.throttle.succeeded(credentials.email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
