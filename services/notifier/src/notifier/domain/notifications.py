"""Who is told what: each wishlists event turned into notifications, with what they render.

Wishlists computes the recipients (payloads carry them); the rules here only
narrow them. The list's owner is dropped whatever the payload says: an owner
is never told about their own list, and above all never about reservations
or suggestions, so a payload that named them by mistake cannot spoil a
surprise. A group's events are the group owner's doing, so its owner is
dropped from them the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from wishlist_shared.events import (
    GroupMemberAdded,
    GroupRef,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSnapshot,
    ItemSuggested,
    WishlistRef,
    WishlistRevealed,
    WishlistRevealedV2,
    WishlistShared,
    WishlistSharedV2,
)

# New kinds go last: the order here is the order of email preferences' kinds.
Kind = Literal[
    "wishlist_shared",
    "item_added",
    "item_reserved",
    "reserved_item_removed",
    "added_to_group",
    "item_suggested",
    "item_received",
    "wishlist_revealed",
]
RESERVATION_KINDS: frozenset[Kind] = frozenset({"item_reserved", "reserved_item_removed"})
SURPRISE_KINDS: frozenset[Kind] = RESERVATION_KINDS | {"item_suggested"}
"""Kinds about what the owner must not learn before the reveal."""
REVEALED_TITLES_SHOWN = 10
"""Titles of received items a ``wishlist_revealed`` names; the count says how many in all."""


@dataclass(frozen=True)
class Planned:
    """The notifications one event gives: one per recipient, all with the same ``data``."""

    kind: Kind
    owner_id: uuid.UUID
    """The owner of the list (or group) the notification is about, whose name ``data`` carries."""
    recipients: tuple[uuid.UUID, ...]
    data: dict[str, Any]
    suggester_id: uuid.UUID | None = None
    """Who suggested the item, named in ``data`` too (``item_suggested`` only)."""

    @property
    def named(self) -> tuple[uuid.UUID, ...]:
        """Every user whose name ``data`` carries: erasing one must not race with writing it."""
        return (self.owner_id,) if self.suggester_id is None else (self.owner_id, self.suggester_id)


def recipients_of(
    kind: Kind,
    owner_id: uuid.UUID,
    candidates: Iterable[uuid.UUID],
    excluding: Iterable[uuid.UUID] = (),
) -> tuple[uuid.UUID, ...]:
    """``candidates`` without duplicates, the owner and ``excluding``, in a stable order."""
    chosen = sorted(set(candidates) - {owner_id} - set(excluding))
    if kind in SURPRISE_KINDS:
        # Said twice on purpose: the rule that matters most must not rest on one line.
        assert owner_id not in chosen, "an owner must never hear of reservations or suggestions"
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


def group_data(group: GroupRef) -> dict[str, Any]:
    return {
        "id": str(group.id),
        "name": group.name,
        "owner_id": str(group.owner_id),
        "owner_display_name": group.owner_display_name,
    }


def _plan(
    kind: Kind,
    wishlist: WishlistRef,
    candidates: Iterable[uuid.UUID],
    *,
    suggester_id: uuid.UUID | None = None,
    **data: Any,
) -> Planned:
    return Planned(
        kind=kind,
        owner_id=wishlist.owner_id,
        recipients=recipients_of(
            kind, wishlist.owner_id, candidates, () if suggester_id is None else (suggester_id,)
        ),
        data={"wishlist": wishlist_data(wishlist), **data},
        suggester_id=suggester_id,
    )


def wishlist_shared(event: WishlistShared) -> Planned:
    return _plan(
        "wishlist_shared",
        event.wishlist,
        event.recipient_ids,
        share_id=str(event.share_id),
        via=event.via,
    )


def wishlist_shared_v2(event: WishlistSharedV2) -> Planned:
    """As v1, and with the group the access came through (only its name: it is the list's news)."""
    group = event.group if event.via == "group" else None
    return _plan(
        "wishlist_shared",
        event.wishlist,
        event.recipient_ids,
        share_id=str(event.share_id),
        via=event.via,
        group=None if group is None else {"id": str(group.id), "name": group.name},
    )


def added_to_group(event: GroupMemberAdded) -> Planned:
    # About the group, not a list: its owner takes the list owner's place
    # (never told, and the one whose name an erasure removes).
    group = event.group
    return Planned(
        kind="added_to_group",
        owner_id=group.owner_id,
        recipients=recipients_of("added_to_group", group.owner_id, event.recipient_ids),
        data={"group": group_data(group), "member_id": str(event.member_id)},
    )


def item_suggested(event: ItemSuggested) -> Planned:
    return _plan(
        "item_suggested",
        event.wishlist,
        event.recipient_ids,
        suggester_id=event.suggested_by_id,
        item=item_data(event.item),
        suggested_by_id=str(event.suggested_by_id),
        suggested_by_display_name=event.suggested_by_display_name,
    )


def item_received(event: ItemReceived) -> Planned:
    # recipient_ids are the item's reservers; viewer_ids only see it leave the list.
    return _plan("item_received", event.wishlist, event.recipient_ids, item=item_data(event.item))


def wishlist_revealed(event: WishlistRevealed) -> Planned:
    received = event.received_items
    return _plan(
        "wishlist_revealed",
        event.wishlist,
        event.recipient_ids,
        revealed_at=event.revealed_at.isoformat(),
        received_count=len(received),
        received_titles=[item.title for item in received[:REVEALED_TITLES_SHOWN]],
    )


def wishlist_revealed_v2(event: WishlistRevealedV2) -> Planned:
    """As v1, from the count and the sample v2 carries instead of every item; one
    reveal comes as several events, each to its own share of the viewers."""
    return _plan(
        "wishlist_revealed",
        event.wishlist,
        event.recipient_ids,
        revealed_at=event.revealed_at.isoformat(),
        received_count=event.received_count,
        received_titles=[item.title for item in event.received_sample[:REVEALED_TITLES_SHOWN]],
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
    data = dict(planned.data)
    for part in ("wishlist", "group"):
        # A group named for a list's sake (wishlist_shared) carries no owner name.
        if isinstance(data.get(part), dict) and "owner_display_name" in data[part]:
            data[part] = {**data[part], "owner_display_name": None}
    return replace(planned, data=data)


def without_suggester_name(planned: Planned) -> Planned:
    """``planned`` with the suggester's name erased (their account was deleted)."""
    return replace(planned, data={**planned.data, "suggested_by_display_name": None})


def without_names_of(planned: Planned, gone: set[uuid.UUID]) -> Planned:
    """``planned`` naming none of ``gone`` (deleted users) and telling none of them."""
    if planned.owner_id in gone:
        planned = without_name(planned)
    if planned.suggester_id is not None and planned.suggester_id in gone:
        planned = without_suggester_name(planned)
    return replace(planned, recipients=tuple(r for r in planned.recipients if r not in gone))


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
