"""An index on when sessions expire, for pruning the expired ones in the background.

Expired sessions used to be deleted on each login, found by ``user_id``: an
account with hundreds of sessions made every login visit all of them. The
pruner (`auth.pruning`) deletes them apart from any request, oldest first,
and this index lets it find them without reading the live ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_sessions_expires_at", table_name="sessions", schema=SCHEMA)
