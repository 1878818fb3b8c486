"""The things wishlists is about, as the rules see them: plain frozen records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

ShareVia = Literal["email", "link"]


@dataclass(frozen=True)
class Wishlist:
    id: uuid.UUID
    owner_id: uuid.UUID
    owner_display_name: str | None
    """None only while this service has not yet heard of the owner's registration."""
    title: str
    description: str | None
    occasion_date: date | None
    created_at: datetime
    updated_at: datetime
    revealed_at: datetime | None = None
    """The latest reveal of the list, if any."""


@dataclass(frozen=True)
class Person:
    """A user as others may name them."""

    id: uuid.UUID
    display_name: str | None


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    wishlist_id: uuid.UUID
    title: str
    url: str | None
    price: Decimal | None
    currency: str | None
    image_url: str | None
    quantity: int
    priority: int
    notes: str | None
    created_at: datetime
    updated_at: datetime
    suggestion: bool = False
    """Added by a viewer: hidden from the owner until a reveal uncovers it."""
    suggested_by: uuid.UUID | None = None
    """Who suggested it; None for the owner's items and once the suggester's account is gone."""
    suggested_by_name: str | None = None
    received_at: datetime | None = None
    """Archived: the owner received it."""
    revealed_at: datetime | None = None
    """When a reveal uncovered its reservations (or it, as a suggestion)."""

    @property
    def suggester(self) -> Person | None:
        if not self.suggestion or self.suggested_by is None:
            return None
        return Person(self.suggested_by, self.suggested_by_name)


@dataclass(frozen=True)
class NamedReservation:
    """A reservation whose reserver chose to show their name to the other viewers."""

    reserver: Person
    quantity: int


@dataclass(frozen=True)
class Tally:
    """The reservations of one item, as much as a viewer may know of them."""

    reserved: int
    """Units reserved by all viewers together (may exceed a lowered quantity)."""
    mine: bool
    """The viewer asking holds one of them."""
    named: tuple[NamedReservation, ...] = ()
    """The reservations shown with their reserver's name, oldest first."""


NO_RESERVATIONS = Tally(reserved=0, mine=False)


@dataclass(frozen=True)
class Gift:
    """One reservation of a revealed item, as its owner sees it after the reveal."""

    giver: Person
    quantity: int
    purchased: bool


@dataclass(frozen=True)
class Share:
    id: uuid.UUID
    wishlist_id: uuid.UUID
    email: str | None
    """The address the owner shared with; None for a viewer who joined by link."""
    viewer_id: uuid.UUID | None
    """None while the share is pending (nobody has registered with the address yet)."""
    viewer_display_name: str | None
    via: ShareVia
    created_at: datetime
    activated_at: datetime | None

    @property
    def status(self) -> Literal["pending", "active"]:
        return "pending" if self.viewer_id is None else "active"


@dataclass(frozen=True)
class Reservation:
    """One viewer's reservation, as that viewer (and only they) sees it."""

    id: uuid.UUID
    item_id: uuid.UUID
    wishlist_id: uuid.UUID
    quantity: int
    purchased: bool
    created_at: datetime
    updated_at: datetime
    show_name: bool = False
    """Whether the other viewers see the reserver's name on it."""


@dataclass(frozen=True)
class ShoppingEntry:
    """A line of the caller's shopping list: their reservation with what it is for."""

    reservation: Reservation
    item: Item
    wishlist: Wishlist
