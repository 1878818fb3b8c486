"""The caller's email preferences: which notification kinds are also mailed, and how often.

Off by default (no kind). ``delivery`` is ``immediate`` (one email per
notification) or ``daily`` (one digest per period, nothing when nothing
happened). An unknown kind is a 422 naming it.
"""

from __future__ import annotations

from fastapi import APIRouter

from notifier.api.deps import Claims, DbSession, RuntimeDep
from notifier.db import emails as rows
from notifier.domain.emails import EmailPreferences

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("/email-preferences", response_model=EmailPreferences)
async def get_email_preferences(claims: Claims, db: DbSession) -> EmailPreferences:
    async with db.begin():
        return await rows.preferences(db, claims.subject)


@router.put("/email-preferences", response_model=EmailPreferences)
async def put_email_preferences(
    chosen: EmailPreferences, claims: Claims, db: DbSession, runtime: RuntimeDep
) -> EmailPreferences:
    """Replaces the caller's preferences; answers them as saved (kinds once each, in order)."""
    async with db.begin():
        return await rows.save_preferences(
            db, claims.subject, chosen, runtime.settings.email_digest_interval_seconds
        )
