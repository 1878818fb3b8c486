"""Response bodies of the notifications API (a notification itself is the domain's model)."""

from __future__ import annotations

from pydantic import BaseModel

from notifier.domain.notifications import Notification


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None


class UnreadCount(BaseModel):
    count: int
