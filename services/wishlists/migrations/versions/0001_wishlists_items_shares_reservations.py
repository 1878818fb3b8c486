"""Users projection, wishlists, items, shares, reservations, outbox and inbox, with row-level security.

Row-level security: every transaction tells PostgreSQL whom it runs for with
transaction-local settings (``wishlists.db.scope``):

- ``app.user_id``: the caller; they see their own lists and everything on
  them except reservations, and the lists shared with them with their items
  and the reservations of those items (viewers see those, the owner never);
- ``app.link_hash``: the hash of a share-link token; that one list and its
  items become readable;
- ``app.system = 'on'``: event consumers and the few queries that must see
  past the caller (who else to notify); everything is visible.

A transaction that sets none of them sees nothing. The tables are owned by the
service's role, so ``FORCE ROW LEVEL SECURITY`` makes the policies apply to it.
Foreign-key checks and cascades bypass the policies by PostgreSQL's design,
which is what deleting a list with its reservations needs.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "wishlists"


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def _tables() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("profile_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_users_email", "users", ["email"], schema=SCHEMA)

    op.create_table(
        "deleted_users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "wishlists",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("occasion_date", sa.Date(), nullable=True),
        sa.Column("link_token_hash", sa.LargeBinary(), nullable=True),
        sa.Column("link_created_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("id", "owner_id", name="uq_wishlists_id_owner"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_wishlists_title"),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) <= 2000",
            name="ck_wishlists_description",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_wishlists_owner_page", "wishlists", ["owner_id", "created_at", "id"], schema=SCHEMA
    )
    op.create_index(
        "ux_wishlists_link_token_hash",
        "wishlists",
        ["link_token_hash"],
        unique=True,
        postgresql_where=sa.text("link_token_hash IS NOT NULL"),
        schema=SCHEMA,
    )

    op.create_table(
        "items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("wishlist_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("quantity", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            [f"{SCHEMA}.wishlists.id", f"{SCHEMA}.wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_items_wishlist",
        ),
        sa.UniqueConstraint("id", "wishlist_id", name="uq_items_id_wishlist"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_items_title"),
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_items_quantity"),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="ck_items_priority"),
        sa.CheckConstraint("price IS NULL OR price >= 0", name="ck_items_price"),
        sa.CheckConstraint(
            "price IS NULL OR currency IS NOT NULL", name="ck_items_price_currency"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_items_wishlist", "items", ["wishlist_id", "created_at", "id"], schema=SCHEMA
    )

    op.create_table(
        "shares",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("wishlist_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("viewer_id", sa.Uuid(), nullable=True),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            [f"{SCHEMA}.wishlists.id", f"{SCHEMA}.wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_shares_wishlist",
        ),
        sa.CheckConstraint("via IN ('email', 'link')", name="ck_shares_via"),
        sa.CheckConstraint("via <> 'email' OR email IS NOT NULL", name="ck_shares_email"),
        sa.CheckConstraint(
            "via <> 'link' OR viewer_id IS NOT NULL", name="ck_shares_link_viewer"
        ),
        sa.CheckConstraint(
            "(viewer_id IS NULL) = (activated_at IS NULL)", name="ck_shares_activation"
        ),
        sa.CheckConstraint("viewer_id <> owner_id", name="ck_shares_not_owner"),
        schema=SCHEMA,
    )
    op.create_index(
        "ux_shares_wishlist_email",
        "shares",
        ["wishlist_id", "email"],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ux_shares_wishlist_viewer",
        "shares",
        ["wishlist_id", "viewer_id"],
        unique=True,
        postgresql_where=sa.text("viewer_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_shares_viewer_page",
        "shares",
        ["viewer_id", "activated_at", "id"],
        postgresql_include=["wishlist_id"],
        postgresql_where=sa.text("viewer_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_shares_wishlist_page", "shares", ["wishlist_id", "created_at", "id"], schema=SCHEMA
    )
    op.create_index(
        "ix_shares_pending_email",
        "shares",
        ["email"],
        postgresql_where=sa.text("viewer_id IS NULL"),
        schema=SCHEMA,
    )

    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("wishlist_id", sa.Uuid(), nullable=False),
        sa.Column("reserver_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.SmallInteger(), nullable=False),
        sa.Column("purchased", sa.Boolean(), nullable=False, server_default=sa.false()),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["item_id", "wishlist_id"],
            [f"{SCHEMA}.items.id", f"{SCHEMA}.items.wishlist_id"],
            ondelete="CASCADE",
            name="fk_reservations_item",
        ),
        sa.UniqueConstraint("item_id", "reserver_id", name="uq_reservations_item_reserver"),
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_reservations_quantity"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reservations_reserver_page",
        "reservations",
        ["reserver_id", "created_at", "id"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reservations_wishlist", "reservations", ["wishlist_id", "item_id"], schema=SCHEMA
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


# SQL functions simple enough for the planner to inline, so that policies
# compare columns with a stable value and indexes still serve.
_FUNCTIONS = (
    f"""CREATE FUNCTION {SCHEMA}.app_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$""",
    f"""CREATE FUNCTION {SCHEMA}.app_link() RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT decode(nullif(current_setting('app.link_hash', true), ''), 'hex') $$""",
    f"""CREATE FUNCTION {SCHEMA}.app_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$""",
)

_S = SCHEMA
_IS_OWNER = f"({_S}.app_system() OR owner_id = {_S}.app_user())"
_VIEWED = f"(SELECT s.wishlist_id FROM {_S}.shares s WHERE s.viewer_id = {_S}.app_user())"
_LINKED = f"(SELECT w.id FROM {_S}.wishlists w WHERE w.link_token_hash = {_S}.app_link())"

# Policies are permissive: a row is visible when any policy for the command
# lets it be. None of them lets an owner see the reservations of their list.
_POLICIES = (
    f"""CREATE POLICY wishlists_owner ON {_S}.wishlists
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}""",
    f"""CREATE POLICY wishlists_viewer ON {_S}.wishlists FOR SELECT
    USING (id IN {_VIEWED})""",
    f"""CREATE POLICY wishlists_link ON {_S}.wishlists FOR SELECT
    USING (link_token_hash = {_S}.app_link())""",
    f"""CREATE POLICY items_owner ON {_S}.items
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}""",
    f"""CREATE POLICY items_viewer ON {_S}.items FOR SELECT
    USING (wishlist_id IN {_VIEWED})""",
    f"""CREATE POLICY items_link ON {_S}.items FOR SELECT
    USING (wishlist_id IN {_LINKED})""",
    f"""CREATE POLICY shares_owner ON {_S}.shares
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}""",
    f"""CREATE POLICY shares_viewer ON {_S}.shares FOR SELECT
    USING (viewer_id = {_S}.app_user())""",
    f"""CREATE POLICY shares_join ON {_S}.shares FOR INSERT
    WITH CHECK (via = 'link' AND viewer_id = {_S}.app_user() AND wishlist_id IN {_LINKED})""",
    f"""CREATE POLICY reservations_reserver ON {_S}.reservations
    USING ({_S}.app_system() OR reserver_id = {_S}.app_user())
    WITH CHECK (
        {_S}.app_system()
        OR (reserver_id = {_S}.app_user() AND wishlist_id IN {_VIEWED})
    )""",
    f"""CREATE POLICY reservations_viewer ON {_S}.reservations FOR SELECT
    USING (wishlist_id IN {_VIEWED})""",
)

_PROTECTED = ("wishlists", "items", "shares", "reservations")


def upgrade() -> None:
    _tables()
    for function in _FUNCTIONS:
        op.execute(function)
    for table in _PROTECTED:
        op.execute(f"ALTER TABLE {SCHEMA}.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {SCHEMA}.{table} FORCE ROW LEVEL SECURITY")
    for policy in _POLICIES:
        op.execute(policy)


def downgrade() -> None:
    # Policies first: they read each other's tables, which would block the drops.
    for policy in _POLICIES:
        name, table = policy.split()[2], policy.split()[4]
        op.execute(f"DROP POLICY {name} ON {table}")
    for table in ("inbox", "outbox", "reservations", "shares", "items", "wishlists"):
        op.drop_table(table, schema=SCHEMA)
    op.drop_table("deleted_users", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)
    for function in ("app_system", "app_link", "app_user"):
        op.execute(f"DROP FUNCTION {SCHEMA}.{function}()")
