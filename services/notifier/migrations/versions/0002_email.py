"""Email: users' addresses (from auth's events), preferences, deliveries, digest entries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "notifier"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )

    op.create_table(
        "email_preferences",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("kinds", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("next_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "delivery IN ('immediate', 'daily')", name="email_preferences_delivery_check"
        ),
        schema=SCHEMA,
    )
    # The digest loop's "whose digest is due".
    op.create_index(
        "ix_email_preferences_next_digest_at",
        "email_preferences",
        ["next_digest_at"],
        postgresql_where=sa.text("next_digest_at IS NOT NULL"),
        schema=SCHEMA,
    )

    op.create_table(
        "email_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("to_address", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # One email per event and recipient, however often the event is delivered.
        sa.UniqueConstraint("event_id", "recipient", name="uq_email_deliveries_event_recipient"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name="email_deliveries_status_check"
        ),
        schema=SCHEMA,
    )
    # The sender's "what is due": pending rows only, few at any time.
    op.create_index(
        "ix_email_deliveries_due",
        "email_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
        schema=SCHEMA,
    )
    # Erasing a deleted user's emails.
    op.create_index(
        "ix_email_deliveries_user_id", "email_deliveries", ["user_id"], schema=SCHEMA
    )

    op.create_table(
        "digest_entries",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("user_id", "notification_id", name="digest_entries_pkey"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("digest_entries", schema=SCHEMA)
    op.drop_table("email_deliveries", schema=SCHEMA)
    op.drop_table("email_preferences", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)
