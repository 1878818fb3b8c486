"""The outbox parks rows the destination keeps refusing: a state, their refusals, when.

A row refused five times (too large, rejected, unroutable) no longer holds
back the rows after it (`wishlist_shared.outbox`). The check constraint is
added NOT VALID and validated apart, so the outbox, busy with writes, is not
locked against them while its published rows are checked.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "wishlists"


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("refusals", sa.Integer(), nullable=False, server_default=sa.text("0")),
        schema=SCHEMA,
    )
    op.add_column(
        "outbox", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA
    )
    _replace_state_check("'pending', 'published', 'parked'")
    op.create_index(
        "ix_outbox_parked",
        "outbox",
        ["id"],
        postgresql_where=sa.text("state = 'parked'"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    # Parked rows go back to being retried: downgrading must not lose an event.
    outbox = sa.table("outbox", sa.column("state"), schema=SCHEMA)
    op.execute(outbox.update().where(outbox.c.state == "parked").values(state="pending"))
    op.drop_index("ix_outbox_parked", "outbox", schema=SCHEMA)
    _replace_state_check("'pending', 'published'")
    op.drop_column("outbox", "parked_at", schema=SCHEMA)
    op.drop_column("outbox", "refusals", schema=SCHEMA)


def _replace_state_check(states: str) -> None:
    op.execute(f"ALTER TABLE {SCHEMA}.outbox DROP CONSTRAINT outbox_state_check")
    op.execute(
        f"ALTER TABLE {SCHEMA}.outbox ADD CONSTRAINT outbox_state_check"
        f" CHECK (state IN ({states})) NOT VALID"
    )
    op.execute(f"ALTER TABLE {SCHEMA}.outbox VALIDATE CONSTRAINT outbox_state_check")
