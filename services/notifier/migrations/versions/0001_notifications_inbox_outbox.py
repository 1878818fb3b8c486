"""Notifications, deleted users, the inbox, and the outbox of pushes to Redis.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "notifier"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        # One notification per event and recipient, however often it is delivered.
        sa.UniqueConstraint("event_id", "recipient_id", name="uq_notifications_event_recipient"),
        schema=SCHEMA,
    )
    # The list (newest first), "after" (oldest first) and unread-count queries.
    op.create_index(
        "ix_notifications_recipient_seq", "notifications", ["recipient_id", "seq"], schema=SCHEMA
    )
    op.create_index(
        "ix_notifications_recipient_unread_seq",
        "notifications",
        ["recipient_id", "seq"],
        postgresql_where=sa.text("read_at IS NULL"),
        schema=SCHEMA,
    )
    # Erasing a deleted owner's name from what others were told.
    op.create_index("ix_notifications_owner_id", "notifications", ["owner_id"], schema=SCHEMA)

    op.create_table(
        "deleted_users",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="inbox_pkey"),
        schema=SCHEMA,
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("routing_key", sa.Text(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("state", sa.Text(), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'published')", name="outbox_state_check"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        postgresql_where=sa.text("state = 'pending'"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("outbox", schema=SCHEMA)
    op.drop_table("inbox", schema=SCHEMA)
    op.drop_table("deleted_users", schema=SCHEMA)
    op.drop_table("notifications", schema=SCHEMA)
