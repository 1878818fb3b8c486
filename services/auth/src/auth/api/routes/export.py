"""Auth's part of the caller's data export: ``GET /api/v1/me/export``.

The gateway asks every service for the same path and puts the parts together
(see ``gateway.api.export``); auth's part is the account itself.
"""

from __future__ import annotations

from fastapi import APIRouter

from auth.api.deps import Claims, DbSession
from auth.api.routes import ME
from auth.api.schemas import AccountExport, UserOut
from auth.db import users
from auth.domain.errors import AccountGone

router = APIRouter(prefix=ME, tags=["export"])


@router.get("/export")
async def export_account(claims: Claims, db: DbSession) -> AccountExport:
    """The caller's account, as ``GET /api/v1/auth/me`` shows it."""
    async with db.begin():
        user = await users.user_by_id(db, claims.subject)
    if user is None:
        raise AccountGone()
    return AccountExport(account=UserOut.of(user))
