"""Tables of the notifier schema (migration 0001 creates them; keep the two in step).

``notifications.seq`` is the order of everything: newest first for the list,
oldest first after a given notification for a reconnecting socket. The
``outbox`` holds the pushes to Redis, one row per notification, written in the
notification's transaction (see :mod:`notifier.events.push`).

Email (migration 0002): ``users`` is what auth says of each user (address and
name), ``email_preferences`` what they want mailed, ``email_deliveries`` each
email to send or sent, once per (event, recipient), and ``digest_entries`` the
notifications waiting for a user's next digest (see :mod:`notifier.events.mailer`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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


class UserRecord(Base):
    """A user's address and name, as auth's latest event about them said."""

    __tablename__ = "users"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    # occurred_at of the event applied: an older one arriving later is ignored.
    as_of: Mapped[datetime] = mapped_column(Timestamp)


class EmailPreferencesRecord(Base):
    """Which notification kinds a user wants by email; no row: none."""

    __tablename__ = "email_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kinds: Mapped[list[str]] = mapped_column(ARRAY(Text))
    delivery: Mapped[str] = mapped_column(Text)
    # When the user's next digest is due; None when none is (immediate delivery
    # and nothing left from a daily period).
    next_digest_at: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "delivery IN ('immediate', 'daily')", name="email_preferences_delivery_check"
        ),
        Index(
            "ix_email_preferences_next_digest_at",
            "next_digest_at",
            postgresql_where=next_digest_at.is_not(None),
        ),
    )


class EmailDeliveryRecord(Base):
    """One email to one recipient, queued with the event that caused it.

    ``recipient`` is the user's id, or the address for someone without an
    account (an invitation): with ``event_id`` it is unique, so one event
    never mails one recipient twice.
    """

    __tablename__ = "email_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID]
    recipient: Mapped[str] = mapped_column(Text)
    # The user it is for, so that erasing them erases it; None for an invitation.
    user_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    # Erased (set to '') once a password reset is sent, given up, or expired.
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    # Not sent after this moment (a reset link that would no longer work).
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", name="uq_email_deliveries_event_recipient"),
        CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name="email_deliveries_status_check"
        ),
        Index(
            "ix_email_deliveries_due",
            "next_attempt_at",
            postgresql_where=status == "pending",
        ),
        Index("ix_email_deliveries_user_id", "user_id"),
    )


class DigestEntryRecord(Base):
    """A notification waiting for its recipient's next digest."""

    __tablename__ = "digest_entries"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


notifications = cast(Table, NotificationRecord.__table__)
deleted_users = cast(Table, DeletedUserRecord.__table__)
users = cast(Table, UserRecord.__table__)
email_preferences = cast(Table, EmailPreferencesRecord.__table__)
email_deliveries = cast(Table, EmailDeliveryRecord.__table__)
digest_entries = cast(Table, DigestEntryRecord.__table__)
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
