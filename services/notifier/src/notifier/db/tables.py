"""Tables of the notifier schema (migration 0001 creates them; keep the two in step).

``notifications.seq`` is the order of everything: newest first for the list,
oldest first after a given notification for a reconnecting socket. The
``outbox`` holds the pushes to Redis, one row per notification, written in the
notification's transaction (see :mod:`notifier.events.push`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wishlist_shared.inbox import inbox_table
from wishlist_shared.outbox import outbox_table

SCHEMA = "notifier"
metadata = MetaData(schema=SCHEMA)

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class NotificationRecord(Base):
    """One thing one user is told, once per (event, recipient)."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Drawn while the recipient's lock is held (db.notifications.create), so
    # for one recipient the order of seq is the order of commits.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    event_id: Mapped[uuid.UUID]
    recipient_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(Text)
    # The list's owner, whose name ``data`` carries: erased when they are.
    owner_id: Mapped[uuid.UUID]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", name="uq_notifications_event_recipient"),
        Index("ix_notifications_recipient_seq", "recipient_id", "seq"),
        Index(
            "ix_notifications_recipient_unread_seq",
            "recipient_id",
            "seq",
            postgresql_where=read_at.is_(None),
        ),
        Index("ix_notifications_owner_id", "owner_id"),
    )


class DeletedUserRecord(Base):
    """Users whose account is gone: a late event must neither notify nor name them."""

    __tablename__ = "deleted_users"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


notifications = cast(Table, NotificationRecord.__table__)
deleted_users = cast(Table, DeletedUserRecord.__table__)
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
