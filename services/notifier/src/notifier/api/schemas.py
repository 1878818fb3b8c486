"""Response bodies of the notifications API (a notification itself is the domain's model)."""

from __future__ import annotations

from pydantic import BaseModel

from notifier.domain.emails import EmailPreferences
from notifier.domain.notifications import Notification


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None


class UnreadCount(BaseModel):
    count: int


class NotifierExport(BaseModel):
    """The notifier's part of a data export; one field per section of ``api.routes.export``."""

    notifications: list[Notification]
    """Every notification of the caller, oldest first."""
    email_preferences: EmailPreferences
    """What the caller chose to get by email (the defaults when they never chose)."""
