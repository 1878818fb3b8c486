"""Groups, group shares, suggestions, reveal and archive, spoiler control.

- ``groups`` and ``group_members``: a group's owner and members, pending ones
  by email until someone registers with it (as list shares are);
- ``wishlist_groups``: the lists shared with a group;
- ``shares`` gains ``via = 'group'`` rows: one per list and member a group
  gives access to. They are the same kind of row every viewer check already
  reads, so a viewer is a viewer however they got there; two foreign keys
  with ``ON DELETE CASCADE`` remove them when the list leaves the group or the
  member leaves it, so no access outlives its reason;
- items gain ``suggestion``/``suggested_by`` (hidden from the owner until
  revealed), ``received_at`` (archived) and ``revealed_at``;
- reservations gain ``show_name`` (whether other viewers see the reserver's
  name) and ``revealed_at`` (the owner may read it from then on);
- wishlists gain ``revealed_at``, their latest reveal.

Policies: the owner's policy on items no longer shows unrevealed suggestions,
nor does the link's; a viewer may add, change and delete their own
unrevealed suggestions; the owner may read revealed reservations of their
lists. Group members see their own membership and groups; a group's owner
manages all of its rows. Fellow members are listed elevated after the
membership check (a policy of group_members reading group_members would
recurse).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "wishlists"
_S = SCHEMA


def _now(name: str, nullable: bool = False) -> sa.Column[object]:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _groups() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("id", "owner_id", name="uq_groups_id_owner"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="ck_groups_name"),
        schema=SCHEMA,
    )
    op.create_index("ix_groups_owner", "groups", ["owner_id", "created_at"], schema=SCHEMA)

    op.create_table(
        "group_members",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("group_owner_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        _now("created_at"),
        _now("joined_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id", "group_owner_id"],
            [f"{SCHEMA}.groups.id", f"{SCHEMA}.groups.owner_id"],
            ondelete="CASCADE",
            name="fk_group_members_group",
        ),
        # Target of the shares that a membership gives.
        sa.UniqueConstraint("group_id", "user_id", name="uq_group_members_group_user"),
        sa.CheckConstraint("role IN ('owner', 'member')", name="ck_group_members_role"),
        sa.CheckConstraint(
            "(user_id IS NULL) = (joined_at IS NULL)", name="ck_group_members_activation"
        ),
        sa.CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL", name="ck_group_members_who"),
        sa.CheckConstraint(
            "(role = 'owner') = (user_id IS NOT DISTINCT FROM group_owner_id)",
            name="ck_group_members_owner",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ux_group_members_group_email",
        "group_members",
        ["group_id", "email"],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_group_members_user_page",
        "group_members",
        ["user_id", "joined_at", "id"],
        postgresql_include=["group_id"],
        postgresql_where=sa.text("user_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_group_members_group",
        "group_members",
        ["group_id", "created_at", "id"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_group_members_pending_email",
        "group_members",
        ["email"],
        postgresql_where=sa.text("user_id IS NULL"),
        schema=SCHEMA,
    )

    op.create_table(
        "wishlist_groups",
        sa.Column("wishlist_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("wishlist_id", "group_id", name="wishlist_groups_pkey"),
        sa.ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            [f"{SCHEMA}.wishlists.id", f"{SCHEMA}.wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_wishlist_groups_wishlist",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            [f"{SCHEMA}.groups.id"],
            ondelete="CASCADE",
            name="fk_wishlist_groups_group",
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_wishlist_groups_group", "wishlist_groups", ["group_id"], schema=SCHEMA)


def _shares() -> None:
    op.add_column("shares", sa.Column("group_id", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.drop_constraint("ck_shares_via", "shares", schema=SCHEMA)
    op.create_check_constraint(
        "ck_shares_via", "shares", "via IN ('email', 'link', 'group')", schema=SCHEMA
    )
    op.create_check_constraint(
        "ck_shares_group",
        "shares",
        "(via = 'group') = (group_id IS NOT NULL) AND (via <> 'group' OR viewer_id IS NOT NULL)",
        schema=SCHEMA,
    )
    op.create_foreign_key(
        "fk_shares_wishlist_group",
        "shares",
        "wishlist_groups",
        ["wishlist_id", "group_id"],
        ["wishlist_id", "group_id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_shares_group_member",
        "shares",
        "group_members",
        ["group_id", "viewer_id"],
        ["group_id", "user_id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
        ondelete="CASCADE",
    )
    op.drop_index("ux_shares_wishlist_viewer", "shares", schema=SCHEMA)
    op.create_index(
        "ux_shares_wishlist_viewer",
        "shares",
        ["wishlist_id", "viewer_id"],
        unique=True,
        postgresql_where=sa.text("viewer_id IS NOT NULL AND group_id IS NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ux_shares_wishlist_group_viewer",
        "shares",
        ["wishlist_id", "group_id", "viewer_id"],
        unique=True,
        postgresql_where=sa.text("group_id IS NOT NULL"),
        schema=SCHEMA,
    )
    # "Is the caller a viewer", whichever way: the unique index above leaves
    # group rows out.
    op.create_index(
        "ix_shares_wishlist_viewer",
        "shares",
        ["wishlist_id", "viewer_id"],
        postgresql_where=sa.text("viewer_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_shares_group_viewer",
        "shares",
        ["group_id", "viewer_id"],
        postgresql_where=sa.text("group_id IS NOT NULL"),
        schema=SCHEMA,
    )


def _items_and_reservations() -> None:
    op.add_column(
        "items",
        sa.Column("suggestion", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )
    op.add_column("items", sa.Column("suggested_by", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.add_column("items", _now("received_at", nullable=True), schema=SCHEMA)
    op.add_column("items", _now("revealed_at", nullable=True), schema=SCHEMA)
    op.create_check_constraint(
        "ck_items_suggested_by", "items", "suggestion OR suggested_by IS NULL", schema=SCHEMA
    )
    op.create_index(
        "ix_items_archive",
        "items",
        ["wishlist_id", "received_at", "id"],
        postgresql_where=sa.text("received_at IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_items_suggested_by",
        "items",
        ["suggested_by"],
        postgresql_where=sa.text("suggested_by IS NOT NULL"),
        schema=SCHEMA,
    )
    op.add_column(
        "reservations",
        sa.Column("show_name", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )
    op.add_column("reservations", _now("revealed_at", nullable=True), schema=SCHEMA)
    op.add_column("wishlists", _now("revealed_at", nullable=True), schema=SCHEMA)


_IS_OWNER = f"({_S}.app_system() OR owner_id = {_S}.app_user())"
_VIEWED = f"(SELECT s.wishlist_id FROM {_S}.shares s WHERE s.viewer_id = {_S}.app_user())"
_LINKED = f"(SELECT w.id FROM {_S}.wishlists w WHERE w.link_token_hash = {_S}.app_link())"
_OWNED = f"(SELECT w.id FROM {_S}.wishlists w WHERE w.owner_id = {_S}.app_user())"
_SHOWN_TO_OWNER = "(NOT suggestion OR revealed_at IS NOT NULL)"
_MY_GROUPS = f"(SELECT m.group_id FROM {_S}.group_members m WHERE m.user_id = {_S}.app_user())"
_OWN_SUGGESTION = (
    f"(suggestion AND suggested_by = {_S}.app_user() AND revealed_at IS NULL"
    f" AND wishlist_id IN {_VIEWED})"
)

# Replaced: name, table, the 0001 text (for the downgrade), the new text.
_ITEMS_OWNER_0001 = f"""CREATE POLICY items_owner ON {_S}.items
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}"""
_ITEMS_LINK_0001 = f"""CREATE POLICY items_link ON {_S}.items FOR SELECT
    USING (wishlist_id IN {_LINKED})"""
_OWNER_ITEMS = f"({_S}.app_system() OR (owner_id = {_S}.app_user() AND {_SHOWN_TO_OWNER}))"
_REPLACED = (
    (
        "items_owner",
        _ITEMS_OWNER_0001,
        f"""CREATE POLICY items_owner ON {_S}.items
    USING {_OWNER_ITEMS} WITH CHECK {_OWNER_ITEMS}""",
    ),
    (
        "items_link",
        _ITEMS_LINK_0001,
        f"""CREATE POLICY items_link ON {_S}.items FOR SELECT
    USING (wishlist_id IN {_LINKED} AND {_SHOWN_TO_OWNER} AND received_at IS NULL)""",
    ),
)

_ADDED = (
    f"""CREATE POLICY items_suggester ON {_S}.items
    USING {_OWN_SUGGESTION} WITH CHECK {_OWN_SUGGESTION}""",
    f"""CREATE POLICY reservations_revealed ON {_S}.reservations FOR SELECT
    USING (revealed_at IS NOT NULL AND wishlist_id IN {_OWNED})""",
    f"""CREATE POLICY groups_owner ON {_S}.groups
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}""",
    f"""CREATE POLICY groups_member ON {_S}.groups FOR SELECT
    USING (id IN {_MY_GROUPS})""",
    f"""CREATE POLICY group_members_owner ON {_S}.group_members
    USING ({_S}.app_system() OR group_owner_id = {_S}.app_user())
    WITH CHECK ({_S}.app_system() OR group_owner_id = {_S}.app_user())""",
    f"""CREATE POLICY group_members_self ON {_S}.group_members FOR SELECT
    USING (user_id = {_S}.app_user())""",
    f"""CREATE POLICY group_members_leave ON {_S}.group_members FOR DELETE
    USING (user_id = {_S}.app_user() AND role = 'member')""",
    f"""CREATE POLICY wishlist_groups_owner ON {_S}.wishlist_groups
    USING {_IS_OWNER} WITH CHECK {_IS_OWNER}""",
    f"""CREATE POLICY wishlist_groups_member ON {_S}.wishlist_groups FOR SELECT
    USING (group_id IN {_MY_GROUPS})""",
)

_PROTECTED = ("groups", "group_members", "wishlist_groups")


def upgrade() -> None:
    _groups()
    _shares()
    _items_and_reservations()
    for table in _PROTECTED:
        op.execute(f"ALTER TABLE {SCHEMA}.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {SCHEMA}.{table} FORCE ROW LEVEL SECURITY")
    for name, _, new in _REPLACED:
        op.execute(f"DROP POLICY {name} ON {SCHEMA}.items")
        op.execute(new)
    for policy in _ADDED:
        op.execute(policy)


def downgrade() -> None:
    for policy in _ADDED:
        name, table = policy.split()[2], policy.split()[4]
        op.execute(f"DROP POLICY {name} ON {table}")
    for name, old, _ in _REPLACED:
        op.execute(f"DROP POLICY {name} ON {SCHEMA}.items")
        op.execute(old)
    op.drop_column("wishlists", "revealed_at", schema=SCHEMA)
    op.drop_column("reservations", "revealed_at", schema=SCHEMA)
    op.drop_column("reservations", "show_name", schema=SCHEMA)
    op.drop_index("ix_items_suggested_by", "items", schema=SCHEMA)
    op.drop_index("ix_items_archive", "items", schema=SCHEMA)
    op.drop_constraint("ck_items_suggested_by", "items", schema=SCHEMA)
    for column in ("revealed_at", "received_at", "suggested_by", "suggestion"):
        op.drop_column("items", column, schema=SCHEMA)
    # Group shares cannot be told apart from others in the 0001 shape: they go.
    op.execute(f"DELETE FROM {SCHEMA}.shares WHERE via = 'group'")
    op.drop_index("ix_shares_group_viewer", "shares", schema=SCHEMA)
    op.drop_index("ix_shares_wishlist_viewer", "shares", schema=SCHEMA)
    op.drop_index("ux_shares_wishlist_group_viewer", "shares", schema=SCHEMA)
    op.drop_index("ux_shares_wishlist_viewer", "shares", schema=SCHEMA)
    op.create_index(
        "ux_shares_wishlist_viewer",
        "shares",
        ["wishlist_id", "viewer_id"],
        unique=True,
        postgresql_where=sa.text("viewer_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.drop_constraint("fk_shares_group_member", "shares", schema=SCHEMA)
    op.drop_constraint("fk_shares_wishlist_group", "shares", schema=SCHEMA)
    op.drop_constraint("ck_shares_group", "shares", schema=SCHEMA)
    op.drop_constraint("ck_shares_via", "shares", schema=SCHEMA)
    op.create_check_constraint("ck_shares_via", "shares", "via IN ('email', 'link')", schema=SCHEMA)
    op.drop_column("shares", "group_id", schema=SCHEMA)
    for table in ("wishlist_groups", "group_members", "groups"):
        op.drop_table(table, schema=SCHEMA)
