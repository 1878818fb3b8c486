"""Request and response bodies of the wishlists API.

Requests reject fields they do not know (``extra="forbid"``): a typo such as
``"prize"`` is a 422 naming it rather than a silent no-op, and fields a
client may not set (``id``, ``owner_id``, ``reserved_quantity``) cannot be
smuggled in. PATCH bodies change exactly the fields they contain; ``null``
clears an optional field and is refused (422) for a required one.

Responses for items come in two types: :class:`ItemOut` has no reservation
fields at all, :class:`ViewerItemOut` adds them. Which one a route returns is
decided by :func:`wishlists.domain.surprise.disclose` alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from wishlists.domain import validation as v
from wishlists.domain.groups import Group, GroupShare, GroupWishlist, Member, shown_email
from wishlists.domain.model import Gift, Person, Share, ShoppingEntry, Wishlist
from wishlists.domain.previews import Preview
from wishlists.domain.reservations import MAX_QUANTITY, MIN_QUANTITY
from wishlists.domain.surprise import ItemView

T = TypeVar("T")

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=v.TITLE_MAX_LENGTH),
    AfterValidator(v.storable_text),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=v.DESCRIPTION_MAX_LENGTH),
    AfterValidator(v.storable_text),
]
Notes = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=v.NOTES_MAX_LENGTH),
    AfterValidator(v.storable_text),
]
WebUrl = Annotated[StrictStr, AfterValidator(v.web_url)]


def _price(value: object) -> Decimal:
    # Only a JSON string: a JSON number would already have passed through a
    # binary float in many clients.
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "19.99"')
    return v.price_amount(value)


Price = Annotated[
    Decimal,
    BeforeValidator(_price),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]+)?$", "example": "19.99"}
    ),
]
Currency = Annotated[StrictStr, AfterValidator(v.currency_code)]
Email = Annotated[StrictStr, AfterValidator(v.share_email)]
# Strict: true is not 1, "2" is not 2.
Quantity = Annotated[int, Field(strict=True, ge=MIN_QUANTITY, le=MAX_QUANTITY)]
Priority = Annotated[int, Field(strict=True, ge=v.PRIORITY_MIN, le=v.PRIORITY_MAX)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patch(Request):
    """A partial update: only the fields sent change."""

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


def _not_null(value: T) -> T:
    # Runs only for fields the client sent: an absent field keeps its value.
    if value is None:
        raise ValueError("may not be null")
    return value


# --- wishlists ----------------------------------------------------------------


class WishlistCreate(Request):
    title: Title
    description: Description | None = None
    occasion_date: date | None = None


class WishlistPatch(Patch):
    title: Annotated[Title | None, AfterValidator(_not_null)] = None
    description: Description | None = None
    occasion_date: date | None = None


class WishlistOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    owner_display_name: str | None
    """None only in the moment between an owner's registration and this service hearing of it."""
    title: str
    description: str | None
    occasion_date: date | None
    created_at: datetime
    updated_at: datetime
    revealed_at: datetime | None
    """The owner's latest reveal of the list (see ``POST /wishlists/{id}/reveal``)."""

    @classmethod
    def of(cls, w: Wishlist) -> Self:
        return cls(
            id=w.id,
            owner_id=w.owner_id,
            owner_display_name=w.owner_display_name,
            title=w.title,
            description=w.description,
            occasion_date=w.occasion_date,
            created_at=w.created_at,
            updated_at=w.updated_at,
            revealed_at=w.revealed_at,
        )


class WishlistPage(BaseModel):
    items: list[WishlistOut]
    next_cursor: str | None


# --- items --------------------------------------------------------------------


class ItemCreate(Request):
    title: Title
    url: WebUrl | None = None
    price: Price | None = None
    currency: Currency | None = None
    image_url: WebUrl | None = None
    quantity: Quantity = v.DEFAULT_QUANTITY
    priority: Priority = v.DEFAULT_PRIORITY
    notes: Notes | None = None

    def fields(self) -> dict[str, Any]:
        return self.model_dump()


class ItemPatch(Patch):
    title: Annotated[Title | None, AfterValidator(_not_null)] = None
    url: WebUrl | None = None
    price: Price | None = None
    currency: Currency | None = None
    image_url: WebUrl | None = None
    quantity: Annotated[Quantity | None, AfterValidator(_not_null)] = None
    priority: Annotated[Priority | None, AfterValidator(_not_null)] = None
    notes: Notes | None = None


class PersonOut(BaseModel):
    id: uuid.UUID
    display_name: str | None

    @classmethod
    def of(cls, p: Person) -> Self:
        return cls(id=p.id, display_name=p.display_name)


class ItemOut(BaseModel):
    """An item without a word about reservations: what owners and link visitors get."""

    id: uuid.UUID
    title: str
    url: str | None
    price: str | None
    """Decimal string, such as "19.99"."""
    currency: str | None
    image_url: str | None
    quantity: int
    priority: int
    notes: str | None
    created_at: datetime
    updated_at: datetime
    suggested_by: PersonOut | None
    """The viewer who suggested it; null for the owner's own items (and, for the owner,
    until a reveal uncovers the suggestion)."""
    received_at: datetime | None
    """When the owner received it; a received item is archived."""

    @classmethod
    def fields_of(cls, view: ItemView) -> dict[str, Any]:
        i = view.item
        return {
            "id": i.id,
            "title": i.title,
            "url": i.url,
            "price": v.format_price(i.price),
            "currency": i.currency,
            "image_url": i.image_url,
            "quantity": i.quantity,
            "priority": i.priority,
            "notes": i.notes,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "suggested_by": PersonOut.of(view.suggested_by) if view.suggested_by else None,
            "received_at": i.received_at,
        }


class ViewerItemOut(ItemOut):
    """An item as a viewer sees it."""

    reserved_quantity: int
    """Units reserved by all viewers together (never more than ``quantity``)."""
    reserved_by_me: bool
    reserved_by: list[NamedReservationOut]
    """The reservations whose reservers chose to show their name; anonymous ones
    count in ``reserved_quantity`` only."""


class NamedReservationOut(BaseModel):
    user_id: uuid.UUID
    display_name: str | None
    quantity: int


def item_out(view: ItemView) -> ItemOut:
    """The response type follows the view: reservation fields exist only if disclosed."""
    facts = view.reservations
    if facts is None:
        return ItemOut(**ItemOut.fields_of(view))
    return ViewerItemOut(
        **ItemOut.fields_of(view),
        reserved_quantity=facts.reserved_quantity,
        reserved_by_me=facts.reserved_by_me,
        reserved_by=[
            NamedReservationOut(
                user_id=n.reserver.id, display_name=n.reserver.display_name, quantity=n.quantity
            )
            for n in facts.named
        ],
    )


class GiftOut(BaseModel):
    """Who reserved a revealed item, as its owner sees it after the reveal."""

    user_id: uuid.UUID
    display_name: str | None
    quantity: int
    purchased: bool

    @classmethod
    def of(cls, g: Gift) -> Self:
        return cls(
            user_id=g.giver.id,
            display_name=g.giver.display_name,
            quantity=g.quantity,
            purchased=g.purchased,
        )


class RevealedItemOut(ItemOut):
    """An item of the owner's archive or reveal, with who gave it (once revealed)."""

    given_by: list[GiftOut]

    @classmethod
    def of(cls, view: ItemView, gifts: Sequence[Gift]) -> Self:
        return cls(**ItemOut.fields_of(view), given_by=[GiftOut.of(g) for g in gifts])


class RevealRequest(Request):
    early: Annotated[bool, Field(strict=True)] = False
    """Reveal before the occasion date (or on a list without one): a reveal is final."""
    next_occasion_date: date | None = None
    """The list's next occasion, set with the reveal."""


class RevealOut(BaseModel):
    revealed_at: datetime
    wishlist: WishlistOut
    received: list[RevealedItemOut]
    """The items this reveal archived as received, with who gave them."""
    suggestions: list[ItemOut]
    """The suggestions this reveal uncovered (those also received are in ``received``)."""


class ArchivePage(BaseModel):
    """Received items: for the owner with ``given_by``, for viewers without."""

    items: list[RevealedItemOut | ItemOut]
    next_cursor: str | None


class WishlistDetailOut(WishlistOut):
    """A list with its items: each an :class:`ItemOut`, or a :class:`ViewerItemOut` for a viewer."""

    # A union, not ``SerializeAsAny[ItemOut]``: each item is still serialised
    # as what it is, and the OpenAPI document names both shapes, so generated
    # clients see the viewer's fields.
    items: list[ViewerItemOut | ItemOut]

    @classmethod
    def of_views(cls, w: Wishlist, views: Sequence[ItemView]) -> Self:
        return cls(
            id=w.id,
            owner_id=w.owner_id,
            owner_display_name=w.owner_display_name,
            title=w.title,
            description=w.description,
            occasion_date=w.occasion_date,
            created_at=w.created_at,
            updated_at=w.updated_at,
            revealed_at=w.revealed_at,
            items=[item_out(view) for view in views],
        )


# --- shares and links -----------------------------------------------------------


class ShareCreate(Request):
    email: Email


class ShareOut(BaseModel):
    id: uuid.UUID
    wishlist_id: uuid.UUID
    email: str | None
    """The address shared with; null for a viewer who joined through the link."""
    status: Literal["pending", "active"]
    """Pending until someone registers with the address."""
    viewer_id: uuid.UUID | None
    viewer_display_name: str | None
    via: Literal["email", "link"]
    created_at: datetime
    activated_at: datetime | None

    @classmethod
    def of(cls, s: Share) -> Self:
        return cls(
            id=s.id,
            wishlist_id=s.wishlist_id,
            email=s.email,
            status=s.status,
            viewer_id=s.viewer_id,
            viewer_display_name=s.viewer_display_name,
            via=s.via,
            created_at=s.created_at,
            activated_at=s.activated_at,
        )


class SharePage(BaseModel):
    items: list[ShareOut]
    next_cursor: str | None


class LinkOut(BaseModel):
    token: str
    """Shown once: only its hash is stored. Creating the link again replaces it."""
    url: str


# --- link previews ---------------------------------------------------------------


class LinkPreviewRequest(Request):
    url: Annotated[StrictStr, StringConstraints(min_length=1, max_length=v.URL_MAX_LENGTH)]
    """The link to read: http or https, to a public address."""


class LinkPreviewOut(BaseModel):
    """What a product page says about itself, as an item's fields; each null when unknown."""

    url: str
    """Where the link led, after redirects."""
    title: str | None
    """Trimmed, at most 200 characters."""
    image_url: str | None
    """Absolute http(s) URL."""
    price: str | None
    """Decimal string, such as "19.99"."""
    currency: str | None
    """ISO 4217 code; null when the page names none, or one items do not take."""

    @classmethod
    def of(cls, p: Preview) -> Self:
        return cls(
            url=p.url, title=p.title, image_url=p.image_url, price=p.price, currency=p.currency
        )


# --- reservations ---------------------------------------------------------------


class ReservationCreate(Request):
    quantity: Quantity = 1
    show_name: Annotated[bool, Field(strict=True)] = False
    """Whether the other viewers see your name on it (else just that it is reserved)."""


class ReservationPatch(Patch):
    purchased: Annotated[bool | None, Field(strict=True), AfterValidator(_not_null)] = None
    show_name: Annotated[bool | None, Field(strict=True), AfterValidator(_not_null)] = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send purchased, show_name or both")
        return self


class ReservationOut(BaseModel):
    """One of the caller's reservations, with what it is for: a line of their shopping list."""

    id: uuid.UUID
    item_id: uuid.UUID
    wishlist_id: uuid.UUID
    quantity: int
    purchased: bool
    show_name: bool
    """Whether the other viewers see your name on it."""
    created_at: datetime
    updated_at: datetime
    item: ItemOut
    wishlist: WishlistOut

    @classmethod
    def of(cls, entry: ShoppingEntry, item: ItemView) -> Self:
        r = entry.reservation
        return cls(
            id=r.id,
            item_id=r.item_id,
            wishlist_id=r.wishlist_id,
            quantity=r.quantity,
            purchased=r.purchased,
            show_name=r.show_name,
            created_at=r.created_at,
            updated_at=r.updated_at,
            item=item_out(item),
            wishlist=WishlistOut.of(entry.wishlist),
        )


class ReservationPage(BaseModel):
    items: list[ReservationOut]
    next_cursor: str | None


# --- export and import ----------------------------------------------------------


class ExportedShare(BaseModel):
    email: str | None
    """Null for a viewer who joined through the link."""
    via: Literal["email", "link"]
    status: Literal["pending", "active"]
    created_at: datetime

    @classmethod
    def of(cls, s: Share) -> Self:
        return cls(email=s.email, via=s.via, status=s.status, created_at=s.created_at)


class ExportedWishlist(BaseModel):
    """One of the caller's own lists: its items as the owner sees them (nothing reserved)."""

    id: uuid.UUID
    title: str
    description: str | None
    occasion_date: date | None
    created_at: datetime
    updated_at: datetime
    items: list[ItemOut]
    shares: list[ExportedShare]

    @classmethod
    def of(cls, w: Wishlist, items: Sequence[ItemView], shares: Sequence[Share]) -> Self:
        return cls(
            id=w.id,
            title=w.title,
            description=w.description,
            occasion_date=w.occasion_date,
            created_at=w.created_at,
            updated_at=w.updated_at,
            items=[item_out(view) for view in items],
            shares=[ExportedShare.of(s) for s in shares],
        )


class ExportedReservation(BaseModel):
    """One of the caller's own reservations on someone else's list."""

    wishlist_id: uuid.UUID
    wishlist_title: str
    owner_display_name: str | None
    item_id: uuid.UUID
    item_title: str
    item_url: str | None
    quantity: int
    purchased: bool
    created_at: datetime

    @classmethod
    def of(cls, entry: ShoppingEntry) -> Self:
        return cls(
            wishlist_id=entry.wishlist.id,
            wishlist_title=entry.wishlist.title,
            owner_display_name=entry.wishlist.owner_display_name,
            item_id=entry.item.id,
            item_title=entry.item.title,
            item_url=entry.item.url,
            quantity=entry.reservation.quantity,
            purchased=entry.reservation.purchased,
            created_at=entry.reservation.created_at,
        )


class ExportedSharedList(BaseModel):
    """A list someone else shared with the caller: what it is, not what is on it."""

    id: uuid.UUID
    title: str
    owner_display_name: str | None
    occasion_date: date | None

    @classmethod
    def of(cls, w: Wishlist) -> Self:
        return cls(
            id=w.id,
            title=w.title,
            owner_display_name=w.owner_display_name,
            occasion_date=w.occasion_date,
        )


class WishlistsExport(BaseModel):
    """Wishlists' part of a data export: every list oldest first, and so on within each."""

    wishlists: list[ExportedWishlist]
    reservations: list[ExportedReservation]
    shared_with_me: list[ExportedSharedList]


class WishlistImport(WishlistCreate):
    """One list to create with its items, each checked as ``POST .../items`` checks it."""

    items: list[ItemCreate] = Field(default_factory=list)


class ImportResult(BaseModel):
    wishlists: list[WishlistDetailOut]
    """Each created list as ``GET /api/v1/wishlists/{id}`` shows it, in the order given."""


# --- groups -------------------------------------------------------------------

GROUP_NAME_MAX_LENGTH = 80
GroupName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=GROUP_NAME_MAX_LENGTH),
    AfterValidator(v.storable_text),
]


class GroupCreate(Request):
    name: GroupName


class GroupPatch(Patch):
    name: Annotated[GroupName | None, AfterValidator(_not_null)] = None


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    owner_display_name: str | None
    role: Literal["owner", "member"]
    """The caller's role in the group."""
    member_count: int
    """Active members, the owner included."""
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, g: Group) -> Self:
        return cls(
            id=g.id,
            name=g.name,
            owner_id=g.owner_id,
            owner_display_name=g.owner_display_name,
            role=g.role,
            member_count=g.member_count,
            created_at=g.created_at,
            updated_at=g.updated_at,
        )


class GroupPage(BaseModel):
    items: list[GroupOut]
    next_cursor: str | None


class MemberCreate(Request):
    email: Email


class MemberOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    """Null while the invitation is pending."""
    display_name: str | None
    email: str | None
    """The address invited: shown to the group's owner only."""
    status: Literal["pending", "active"]
    role: Literal["owner", "member"]
    created_at: datetime
    joined_at: datetime | None

    @classmethod
    def of(cls, m: Member, *, shown_to: Literal["owner", "member"]) -> Self:
        return cls(
            id=m.id,
            user_id=m.user_id,
            display_name=m.display_name,
            email=shown_email(m, shown_to),
            status=m.status,
            role=m.role,
            created_at=m.created_at,
            joined_at=m.joined_at,
        )


class GroupWishlistOut(BaseModel):
    id: uuid.UUID
    title: str
    owner_id: uuid.UUID
    owner_display_name: str | None
    occasion_date: date | None

    @classmethod
    def of(cls, w: GroupWishlist) -> Self:
        return cls(
            id=w.id,
            title=w.title,
            owner_id=w.owner_id,
            owner_display_name=w.owner_display_name,
            occasion_date=w.occasion_date,
        )


class GroupDetailOut(GroupOut):
    members: list[MemberOut]
    """Members and pending invitations, the oldest first."""
    wishlists: list[GroupWishlistOut]
    """The lists shared with the group, the earliest shared first."""


class GroupShareCreate(Request):
    group_id: uuid.UUID


class GroupShareOut(BaseModel):
    """A group the list is shared with."""

    group_id: uuid.UUID
    name: str
    created_at: datetime

    @classmethod
    def of(cls, s: GroupShare) -> Self:
        return cls(group_id=s.group_id, name=s.name, created_at=s.created_at)


class GroupSharePage(BaseModel):
    items: list[GroupShareOut]
    next_cursor: str | None
