"""Who is told what: each wishlists event turned into notifications, with what they render.

Wishlists computes the recipients (payloads carry them); the rules here only
narrow them. The list's owner is dropped whatever the payload says: an owner
is never told about their own list, and above all never about reservations,
so a payload that named them by mistake cannot spoil a surprise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from wishlist_shared.events import (
    ItemAdded,
    ItemDeleted,
    ItemReserved,
    ItemSnapshot,
    WishlistRef,
    WishlistShared,
)

Kind = Literal["wishlist_shared", "item_added", "item_reserved", "reserved_item_removed"]
RESERVATION_KINDS: frozenset[Kind] = frozenset({"item_reserved", "reserved_item_removed"})


@dataclass(frozen=True)
class Planned:
    """The notifications one event gives: one per recipient, all with the same ``data``."""

    kind: Kind
    owner_id: uuid.UUID
    recipients: tuple[uuid.UUID, ...]
    data: dict[str, Any]


def recipients_of(
    kind: Kind, owner_id: uuid.UUID, candidates: Iterable[uuid.UUID]
) -> tuple[uuid.UUID, ...]:
    """``candidates`` without duplicates and without the owner, in a stable (sorted) order."""
    chosen = sorted(set(candidates) - {owner_id})
    if kind in RESERVATION_KINDS:
        # Said twice on purpose: the rule that matters most must not rest on one line.
        assert owner_id not in chosen, "an owner must never hear of reservations"
    return tuple(chosen)


def wishlist_data(wishlist: WishlistRef) -> dict[str, Any]:
    return {
        "id": str(wishlist.id),
        "title": wishlist.title,
        "owner_id": str(wishlist.owner_id),
        "owner_display_name": wishlist.owner_display_name,
        "occasion_date": wishlist.occasion_date.isoformat() if wishlist.occasion_date else None,
    }


def item_data(item: ItemSnapshot) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "title": item.title,
        "image_url": item.image_url,
        "price": item.price,
        "currency": item.currency,
        "quantity": item.quantity,
    }


def _plan(
    kind: Kind, wishlist: WishlistRef, candidates: Iterable[uuid.UUID], **data: Any
) -> Planned:
    return Planned(
        kind=kind,
        owner_id=wishlist.owner_id,
        recipients=recipients_of(kind, wishlist.owner_id, candidates),
        data={"wishlist": wishlist_data(wishlist), **data},
    )


def wishlist_shared(event: WishlistShared) -> Planned:
    return _plan(
        "wishlist_shared",
        event.wishlist,
        event.recipient_ids,
        share_id=str(event.share_id),
        via=event.via,
    )


def item_added(event: ItemAdded) -> Planned:
    return _plan("item_added", event.wishlist, event.recipient_ids, item=item_data(event.item))


def item_reserved(event: ItemReserved) -> Planned:
    return _plan(
        "item_reserved",
        event.wishlist,
        event.recipient_ids,
        item=item_data(event.item),
        reserved_quantity=event.reserved_quantity,
    )


def reserved_item_removed(event: ItemDeleted) -> Planned:
    # recipient_ids of item_deleted are the reservers; viewer_ids (all who
    # could see it) are deliberately not told: only a lost reservation matters.
    return _plan(
        "reserved_item_removed", event.wishlist, event.recipient_ids, item=item_data(event.item)
    )


def without_name(planned: Planned) -> Planned:
    """``planned`` with the owner's name erased (their account was deleted)."""
    wishlist = {**planned.data["wishlist"], "owner_display_name": None}
    return Planned(
        planned.kind, planned.owner_id, planned.recipients, {**planned.data, "wishlist": wishlist}
    )


class Notification(BaseModel):
    """A notification as clients see it, by REST and pushed on a socket alike."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    kind: str
    created_at: datetime
    read: bool
    data: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """What is pushed to the recipient's sockets: the REST shape, wrapped."""
        return {"type": "notification", "notification": self.model_dump(mode="json")}
