"""The notifier's part of the caller's data export: ``GET /api/v1/me/export``.

The gateway asks every service for the same path and puts the parts together
(see ``gateway.api.export``). The notifier's part is a set of sections, each a
top-level key of the document read by its own function in one transaction:
a new kind of data (a preference, say) is one more entry in :data:`SECTIONS`
and one more field of :class:`NotifierExport`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.api.deps import Claims, DbSession
from notifier.api.routes import ME
from notifier.api.schemas import NotifierExport
from notifier.db import emails as email_rows
from notifier.db import notifications as rows

router = APIRouter(prefix=ME, tags=["export"])

BATCH = 500
"""Notifications read per query."""


async def _notifications(db: AsyncSession, user_id: uuid.UUID) -> Any:
    return await rows.every(db, user_id, batch=BATCH)


async def _email_preferences(db: AsyncSession, user_id: uuid.UUID) -> Any:
    return await email_rows.preferences(db, user_id)


Section = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]
SECTIONS: dict[str, Section] = {
    "notifications": _notifications,
    "email_preferences": _email_preferences,
}
"""Each top-level key of the notifier's part, and how it is read for a user."""


@router.get("/export")
async def export_mine(claims: Claims, db: DbSession) -> NotifierExport:
    """All of the caller's notifications, oldest first, each as the REST API shows it,
    and their email preferences."""
    async with db.begin():
        parts = {name: await read(db, claims.subject) for name, read in SECTIONS.items()}
    return NotifierExport.model_validate(parts)
