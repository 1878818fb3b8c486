"""Tables of the wishlists schema (migration 0001 creates them; keep the two in step).

``owner_id`` is repeated on items and shares, tied to the list by composite
foreign keys, so that row-level security policies can say "the owner's rows"
without reading another table (policies that read each other would recurse).
Indexes are named for the query they serve; ``tests/integration/db`` checks
each query's plan uses them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wishlist_shared.inbox import inbox_table
from wishlist_shared.outbox import outbox_table

SCHEMA = "wishlists"
metadata = MetaData(schema=SCHEMA)

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class UserRecord(Base):
    """What wishlists knows of each user, kept from auth's events."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Canonical (lower-case) as auth sends it. Not unique: after a deletion
    # and a new registration with the same address, the two events may come
    # in either order.
    email: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    # When the newest profile event applied here happened: an older one that
    # arrives late (events of different queues have no order) is ignored.
    profile_at: Mapped[datetime] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_users_email", "email"),)


class DeletedUserRecord(Base):
    """Users whose account is gone: a late registration or update event must not revive them."""

    __tablename__ = "deleted_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class WishlistRecord(Base):
    __tablename__ = "wishlists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    occasion_date: Mapped[date | None] = mapped_column(Date)
    # SHA-256 of the share link's token; the token itself is never stored.
    link_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    link_created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # The latest reveal: from then the owner sees what it uncovered.
    revealed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        # Target of the composite foreign keys that carry owner_id along.
        UniqueConstraint("id", "owner_id", name="uq_wishlists_id_owner"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_wishlists_title"),
        CheckConstraint(
            "description IS NULL OR char_length(description) <= 2000",
            name="ck_wishlists_description",
        ),
        # GET /wishlists: the owner's lists, newest first.
        Index("ix_wishlists_owner_page", "owner_id", "created_at", "id"),
        Index(
            "ux_wishlists_link_token_hash",
            "link_token_hash",
            unique=True,
            postgresql_where=text("link_token_hash IS NOT NULL"),
        ),
    )


class ItemRecord(Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    wishlist_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    # Unconstrained numeric keeps the scale it was written with: "19.90" stays.
    price: Mapped[Decimal | None] = mapped_column(Numeric(asdecimal=True))
    currency: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(SmallInteger)
    priority: Mapped[int] = mapped_column(SmallInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    # A viewer's suggestion: hidden from the owner (row-level security) until
    # revealed. suggested_by goes NULL when the suggester's account does; the
    # item stays a suggestion.
    suggestion: Mapped[bool] = mapped_column(Boolean, server_default=false())
    suggested_by: Mapped[uuid.UUID | None]
    # Archived: the owner received it (marked, or by a reveal).
    received_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # When a reveal uncovered it (its reservations, or it as a suggestion).
    revealed_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            ["wishlists.id", "wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_items_wishlist",
        ),
        CheckConstraint("suggestion OR suggested_by IS NULL", name="ck_items_suggested_by"),
        # Target of reservations' foreign key: a reservation's list is its item's.
        UniqueConstraint("id", "wishlist_id", name="uq_items_id_wishlist"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_items_title"),
        CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_items_quantity"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="ck_items_priority"),
        CheckConstraint("price IS NULL OR price >= 0", name="ck_items_price"),
        CheckConstraint("price IS NULL OR currency IS NOT NULL", name="ck_items_price_currency"),
        # A list's items in the order they were added.
        Index("ix_items_wishlist", "wishlist_id", "created_at", "id"),
        # A list's archive, the most recently received first.
        Index(
            "ix_items_archive",
            "wishlist_id",
            "received_at",
            "id",
            postgresql_where=text("received_at IS NOT NULL"),
        ),
        # A deleted account's suggestions.
        Index(
            "ix_items_suggested_by",
            "suggested_by",
            postgresql_where=text("suggested_by IS NOT NULL"),
        ),
    )


class ShareRecord(Base):
    """Access of one viewer (or one pending email address) to one list."""

    __tablename__ = "shares"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    wishlist_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID]
    email: Mapped[str | None] = mapped_column(Text)
    viewer_id: Mapped[uuid.UUID | None]
    via: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Set on the rows a group gives: one per list and member, removed by the
    # cascades below when the list leaves the group or the member does.
    group_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            ["wishlists.id", "wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_shares_wishlist",
        ),
        ForeignKeyConstraint(
            ["wishlist_id", "group_id"],
            ["wishlist_groups.wishlist_id", "wishlist_groups.group_id"],
            ondelete="CASCADE",
            name="fk_shares_wishlist_group",
        ),
        ForeignKeyConstraint(
            ["group_id", "viewer_id"],
            ["group_members.group_id", "group_members.user_id"],
            ondelete="CASCADE",
            name="fk_shares_group_member",
        ),
        CheckConstraint("via IN ('email', 'link', 'group')", name="ck_shares_via"),
        CheckConstraint(
            "(via = 'group') = (group_id IS NOT NULL)"
            " AND (via <> 'group' OR viewer_id IS NOT NULL)",
            name="ck_shares_group",
        ),
        CheckConstraint("via <> 'email' OR email IS NOT NULL", name="ck_shares_email"),
        CheckConstraint("via <> 'link' OR viewer_id IS NOT NULL", name="ck_shares_link_viewer"),
        CheckConstraint(
            "(viewer_id IS NULL) = (activated_at IS NULL)", name="ck_shares_activation"
        ),
        # The owner is never a viewer of their own list: the surprise rule
        # leans on it (a viewer sees reservations).
        CheckConstraint("viewer_id <> owner_id", name="ck_shares_not_owner"),
        Index(
            "ux_shares_wishlist_email",
            "wishlist_id",
            "email",
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
        # One direct share per viewer; a group adds its own row beside it.
        Index(
            "ux_shares_wishlist_viewer",
            "wishlist_id",
            "viewer_id",
            unique=True,
            postgresql_where=text("viewer_id IS NOT NULL AND group_id IS NULL"),
        ),
        Index(
            "ux_shares_wishlist_group_viewer",
            "wishlist_id",
            "group_id",
            "viewer_id",
            unique=True,
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        # "Is the caller a viewer", whichever way: the unique index above
        # leaves group rows out.
        Index(
            "ix_shares_wishlist_viewer",
            "wishlist_id",
            "viewer_id",
            postgresql_where=text("viewer_id IS NOT NULL"),
        ),
        # The cascade from a membership that ends.
        Index(
            "ix_shares_group_viewer",
            "group_id",
            "viewer_id",
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        # Shared-with-me pages and every "is the caller a viewer" check.
        Index(
            "ix_shares_viewer_page",
            "viewer_id",
            "activated_at",
            "id",
            postgresql_include=["wishlist_id"],
            postgresql_where=text("viewer_id IS NOT NULL"),
        ),
        # The owner's page of shares.
        Index("ix_shares_wishlist_page", "wishlist_id", "created_at", "id"),
        # Pending shares a registration activates.
        Index("ix_shares_pending_email", "email", postgresql_where=text("viewer_id IS NULL")),
    )


class ReservationRecord(Base):
    __tablename__ = "reservations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_id: Mapped[uuid.UUID]
    wishlist_id: Mapped[uuid.UUID]
    reserver_id: Mapped[uuid.UUID]
    quantity: Mapped[int] = mapped_column(SmallInteger)
    purchased: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Other viewers see the reserver's name only if they chose so.
    show_name: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Set by a reveal: from then the list's owner may read it.
    revealed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(
            ["item_id", "wishlist_id"],
            ["items.id", "items.wishlist_id"],
            ondelete="CASCADE",
            name="fk_reservations_item",
        ),
        # One reservation per viewer and item: "cancel mine" names it.
        UniqueConstraint("item_id", "reserver_id", name="uq_reservations_item_reserver"),
        CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_reservations_quantity"),
        # The caller's shopping list, newest first.
        Index("ix_reservations_reserver_page", "reserver_id", "created_at", "id"),
        # Tallies of one list's items for its viewers.
        Index("ix_reservations_wishlist", "wishlist_id", "item_id"),
    )


class GroupRecord(Base):
    """A family or circle of friends: lists shared with it are seen by all its members."""

    __tablename__ = "groups"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("id", "owner_id", name="uq_groups_id_owner"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="ck_groups_name"),
        Index("ix_groups_owner", "owner_id", "created_at"),
    )


class GroupMemberRecord(Base):
    """One member of a group, or one invited address (pending until someone registers)."""

    __tablename__ = "group_members"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    group_id: Mapped[uuid.UUID]
    # The group's owner, carried along so policies need not read groups.
    group_owner_id: Mapped[uuid.UUID]
    email: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None]
    role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    joined_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        ForeignKeyConstraint(
            ["group_id", "group_owner_id"],
            ["groups.id", "groups.owner_id"],
            ondelete="CASCADE",
            name="fk_group_members_group",
        ),
        # Target of the foreign key of the shares a membership gives.
        UniqueConstraint("group_id", "user_id", name="uq_group_members_group_user"),
        CheckConstraint("role IN ('owner', 'member')", name="ck_group_members_role"),
        CheckConstraint(
            "(user_id IS NULL) = (joined_at IS NULL)", name="ck_group_members_activation"
        ),
        CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL", name="ck_group_members_who"),
        CheckConstraint(
            "(role = 'owner') = (user_id IS NOT DISTINCT FROM group_owner_id)",
            name="ck_group_members_owner",
        ),
        Index(
            "ux_group_members_group_email",
            "group_id",
            "email",
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
        # The caller's groups, and every "is the caller a member" check.
        Index(
            "ix_group_members_user_page",
            "user_id",
            "joined_at",
            "id",
            postgresql_include=["group_id"],
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index("ix_group_members_group", "group_id", "created_at", "id"),
        # Pending memberships a registration activates.
        Index("ix_group_members_pending_email", "email", postgresql_where=text("user_id IS NULL")),
    )


class WishlistGroupRecord(Base):
    """A list shared with a group."""

    __tablename__ = "wishlist_groups"

    wishlist_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            ["wishlists.id", "wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_wishlist_groups_wishlist",
        ),
        ForeignKeyConstraint(
            ["group_id"], ["groups.id"], ondelete="CASCADE", name="fk_wishlist_groups_group"
        ),
        Index("ix_wishlist_groups_group", "group_id"),
    )


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
