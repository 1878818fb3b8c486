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

    __table_args__ = (
        ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            ["wishlists.id", "wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_items_wishlist",
        ),
        # Target of reservations' foreign key: a reservation's list is its item's.
        UniqueConstraint("id", "wishlist_id", name="uq_items_id_wishlist"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_items_title"),
        CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_items_quantity"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="ck_items_priority"),
        CheckConstraint("price IS NULL OR price >= 0", name="ck_items_price"),
        CheckConstraint("price IS NULL OR currency IS NOT NULL", name="ck_items_price_currency"),
        # A list's items in the order they were added.
        Index("ix_items_wishlist", "wishlist_id", "created_at", "id"),
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

    __table_args__ = (
        ForeignKeyConstraint(
            ["wishlist_id", "owner_id"],
            ["wishlists.id", "wishlists.owner_id"],
            ondelete="CASCADE",
            name="fk_shares_wishlist",
        ),
        CheckConstraint("via IN ('email', 'link')", name="ck_shares_via"),
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
        Index(
            "ux_shares_wishlist_viewer",
            "wishlist_id",
            "viewer_id",
            unique=True,
            postgresql_where=text("viewer_id IS NOT NULL"),
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


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
