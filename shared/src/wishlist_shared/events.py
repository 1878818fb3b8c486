"""Event contracts: the envelope every event travels in, and each event's payload.

Events are named in the past tense and versioned in their routing key
(``auth.user_registered.v1``). A change to a payload is a new class with a new
version, never an edit in place: consumers deployed earlier keep working.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from wishlist_shared import correlation


class EventPayload(BaseModel):
    """Base of every payload; subclasses set ``routing_key``."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    routing_key: ClassVar[str]


P = TypeVar("P", bound=EventPayload)

MAX_EVENT_BYTES = 64 * 1024
"""Largest serialised envelope (:func:`encode`) a service may publish and a consumer parses.

Every legitimate event fits: one that would not is split by its publisher (one
event per page of recipients or items), and :func:`wishlist_shared.outbox.add_event`
refuses one that was not. A bigger message is not ours, and a consumer
dead-letters it unread rather than spend memory or CPU on it.
"""


class EventTooLargeError(ValueError):
    """An envelope over :data:`MAX_EVENT_BYTES`: a bug of its publisher, which must split it."""


def encode(body: dict[str, Any]) -> bytes:
    """The bytes a body travels as, whose length :data:`MAX_EVENT_BYTES` bounds.

    Compact UTF-8 JSON. Not ASCII-escaped: escaping would spend 12 bytes on one
    emoji where UTF-8 spends 4, and a single item whose text fields are full of
    them would then outgrow the limit on its own, recipients or not.
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class Envelope(BaseModel, Generic[P]):
    """What travels on the bus. ``id`` is what consumers' inboxes deduplicate on."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = Field(default_factory=correlation.current)
    payload: P

    @classmethod
    def wrap(cls, payload: P) -> Envelope[P]:
        return Envelope[P](type=payload.routing_key, payload=payload)


def dump(envelope: Envelope[Any]) -> dict[str, Any]:
    return envelope.model_dump(mode="json")


def encoded_size(envelope: Envelope[Any]) -> int:
    """Bytes ``envelope`` takes on the bus."""
    return len(encode(dump(envelope)))


# --- auth ---------------------------------------------------------------------

DISPLAY_NAME_MAX_LENGTH = 80
"""Longest display name an event carries: auth refuses a longer one at registration and
rename, and the services that copy names (wishlists' owner and reserver names) size
their events by it."""


class UserRegistered(EventPayload):
    routing_key: ClassVar[str] = "auth.user_registered.v1"
    user_id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime


class UserUpdated(EventPayload):
    routing_key: ClassVar[str] = "auth.user_updated.v1"
    user_id: uuid.UUID
    email: str
    display_name: str


class UserDeleted(EventPayload):
    routing_key: ClassVar[str] = "auth.user_deleted.v1"
    user_id: uuid.UUID


class PasswordResetRequested(EventPayload):
    """Someone asked to reset the password of an existing account.

    It carries the one secret ever put on the bus, the single-use reset token,
    because the notifier must mail it: auth keeps only its hash, the notifier
    keeps it only until the mail is accepted, and it dies at ``expires_at``.
    """

    routing_key: ClassVar[str] = "auth.password_reset_requested.v1"
    user_id: uuid.UUID
    email: str
    display_name: str
    reset_token: str
    expires_at: datetime


# --- wishlists ----------------------------------------------------------------
#
# Every wishlists event names its recipients: the users a consumer (the
# notifier) should tell, computed by wishlists from who could see the list at
# that moment. A recipient list never holds the list's owner, and no payload
# says who reserved what: item data is the owner-safe snapshot, and reservation
# events carry only the total a viewer may see anyway.


class WishlistRef(BaseModel):
    """A list as a consumer names it without calling back."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    title: str
    owner_id: uuid.UUID
    owner_display_name: str | None
    """None only while wishlists has not yet heard of the owner's registration."""
    occasion_date: date | None


class ItemSnapshot(BaseModel):
    """An item as anyone may know it, its owner included: nothing about reservations."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    title: str
    url: str | None
    price: str | None
    currency: str | None
    image_url: str | None
    quantity: int
    priority: int
    notes: str | None
    created_at: datetime
    updated_at: datetime


class WishlistShared(EventPayload):
    """A user became a viewer: an email share (at once, or when they registered) or a link join.

    Superseded by :class:`WishlistSharedV2`, which wishlists publishes now;
    consumers keep reading v1 for events published before the change.
    """

    routing_key: ClassVar[str] = "wishlists.wishlist_shared.v1"
    wishlist: WishlistRef
    share_id: uuid.UUID
    viewer_id: uuid.UUID
    via: Literal["email", "link"]
    recipient_ids: tuple[uuid.UUID, ...]
    """The new viewer."""


class ShareInvited(EventPayload):
    """The owner shared a list with an address nobody has registered with yet.

    The share stays pending until someone registers with ``email``; then
    ``wishlist_shared`` follows as for any share.
    """

    routing_key: ClassVar[str] = "wishlists.share_invited.v1"
    wishlist: WishlistRef
    share_id: uuid.UUID
    email: str


class ItemAdded(EventPayload):
    routing_key: ClassVar[str] = "wishlists.item_added.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment."""


class ItemUpdated(EventPayload):
    routing_key: ClassVar[str] = "wishlists.item_updated.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment."""


class ItemDeleted(EventPayload):
    routing_key: ClassVar[str] = "wishlists.item_deleted.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    """The item as it was just before it was deleted."""
    viewer_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment (whose views of the list change)."""
    recipient_ids: tuple[uuid.UUID, ...]
    """The viewers among them who had reserved the item: they lost a reservation."""


class ItemReserved(EventPayload):
    routing_key: ClassVar[str] = "wishlists.item_reserved.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    reserved_quantity: int
    """Units of the item reserved by all viewers together, after this reservation."""
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer except the one who reserved."""


class ReservationCancelled(EventPayload):
    routing_key: ClassVar[str] = "wishlists.reservation_cancelled.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    reserved_quantity: int
    """Units of the item still reserved by all viewers together."""
    reason: Literal["cancelled", "reserver_deleted"]
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer except the one whose reservation ended."""


class WishlistDeleted(EventPayload):
    routing_key: ClassVar[str] = "wishlists.wishlist_deleted.v1"
    wishlist: WishlistRef
    reason: Literal["deleted", "owner_deleted"]
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment."""


class GroupRef(BaseModel):
    """A group as a consumer names it without calling back."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    owner_display_name: str | None


class WishlistSharedV2(EventPayload):
    """A user became a viewer: by email share, link join, or through a group.

    v2 of ``wishlist_shared``: ``via`` may be ``group``, and ``group`` names it.
    Published only when the user could not see the list before (a second path
    to a list already seen is not news).
    """

    routing_key: ClassVar[str] = "wishlists.wishlist_shared.v2"
    wishlist: WishlistRef
    share_id: uuid.UUID
    viewer_id: uuid.UUID
    via: Literal["email", "link", "group"]
    group: GroupRef | None
    """The group the access came through; None unless ``via`` is ``group``."""
    recipient_ids: tuple[uuid.UUID, ...]
    """The new viewer."""


class GroupMemberAdded(EventPayload):
    """A registered user was added to a group (at once, or when they registered)."""

    routing_key: ClassVar[str] = "wishlists.group_member_added.v1"
    group: GroupRef
    member_id: uuid.UUID
    recipient_ids: tuple[uuid.UUID, ...]
    """The new member."""


class GroupInvited(EventPayload):
    """A group's owner invited an address nobody has registered with yet.

    The membership stays pending until someone registers with ``email``; then
    ``group_member_added`` follows.
    """

    routing_key: ClassVar[str] = "wishlists.group_invited.v1"
    group: GroupRef
    membership_id: uuid.UUID
    email: str


class ItemSuggested(EventPayload):
    """A viewer suggested an item for someone else's list; its owner never hears of it."""

    routing_key: ClassVar[str] = "wishlists.item_suggested.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    suggested_by_id: uuid.UUID
    suggested_by_display_name: str | None
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer except the one who suggested."""


class ItemReceived(EventPayload):
    """The owner marked an item received: it leaves the list for its archive."""

    routing_key: ClassVar[str] = "wishlists.item_received.v1"
    wishlist: WishlistRef
    item: ItemSnapshot
    viewer_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment (whose views of the list change)."""
    recipient_ids: tuple[uuid.UUID, ...]
    """The viewers among them who had reserved the item."""


class WishlistRevealed(EventPayload):
    """The owner revealed the list after its occasion (or early, by choice).

    From now on the owner sees who gave what on the items received, and the
    suggestions made so far; those items are archived.

    Superseded by :class:`WishlistRevealedV2`, which wishlists publishes now: this
    one carries every received item whole, and a list of 500 would not fit in
    :data:`MAX_EVENT_BYTES`. Consumers keep reading v1 for events published
    before the change.
    """

    routing_key: ClassVar[str] = "wishlists.wishlist_revealed.v1"
    wishlist: WishlistRef
    revealed_at: datetime
    received_items: tuple[ItemSnapshot, ...]
    """The items archived as received by this reveal."""
    recipient_ids: tuple[uuid.UUID, ...]
    """Every viewer of the list at that moment."""


REVEALED_SAMPLE_MAX = 10
"""Received items a ``wishlist_revealed.v2`` names at most; its count says how many in all."""


class ReceivedItem(BaseModel):
    """A received item as a reveal names it: enough to list it, small enough to send ten."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    title: str


class WishlistRevealedV2(EventPayload):
    """The owner revealed the list, as v1, told in events that fit whatever the list.

    v2 of ``wishlist_revealed``: instead of every received item whole, how many
    there were and the first few (id and title); and one reveal is one event
    per page of recipients (each viewer in exactly one), so its size is bounded
    however many items and viewers the list has. Every page carries the same
    count and sample.
    """

    routing_key: ClassVar[str] = "wishlists.wishlist_revealed.v2"
    wishlist: WishlistRef
    revealed_at: datetime
    received_count: int = Field(ge=0)
    """How many items this reveal archived as received."""
    received_sample: tuple[ReceivedItem, ...] = Field(max_length=REVEALED_SAMPLE_MAX)
    """The first of them (in the order they were added to the list), at most ten."""
    recipient_ids: tuple[uuid.UUID, ...]
    """This page's share of the list's viewers at that moment."""


# --- every event ----------------------------------------------------------------

ALL: tuple[type[EventPayload], ...] = (
    UserRegistered,
    UserUpdated,
    UserDeleted,
    PasswordResetRequested,
    WishlistShared,
    ShareInvited,
    ItemAdded,
    ItemUpdated,
    ItemDeleted,
    ItemReserved,
    ReservationCancelled,
    WishlistDeleted,
    WishlistSharedV2,
    GroupMemberAdded,
    GroupInvited,
    ItemSuggested,
    ItemReceived,
    WishlistRevealed,
    WishlistRevealedV2,
)
BY_ROUTING_KEY: dict[str, type[EventPayload]] = {p.routing_key: p for p in ALL}
