"""The events wishlists publishes, each added to the outbox inside the caller's transaction.

Payloads are built here from domain records only. Item data goes through
:func:`wishlists.domain.surprise.disclose` for an audience that may be the
owner, and every recipient list through
:func:`wishlists.domain.surprise.recipients`, so no event can carry
reservation facts to the owner or name the owner as a recipient. Reservation
events say how much of an item is reserved in total (what viewers see anyway)
and never who reserved it.

Every event that names an audience goes through :func:`_add_paged`: one event
per page of it (:mod:`wishlists.events.paging`), so none outgrows what
consumers read, however many viewers a list has.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.events import (
    REVEALED_SAMPLE_MAX,
    EventPayload,
    GroupInvited,
    GroupMemberAdded,
    GroupRef,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSnapshot,
    ItemSuggested,
    ItemUpdated,
    ReceivedItem,
    ReservationCancelled,
    ShareInvited,
    WishlistDeleted,
    WishlistRef,
    WishlistRevealedV2,
    WishlistSharedV2,
)
from wishlist_shared.outbox import NewEvents, add_event, add_events, new_events
from wishlists.db.tables import outbox
from wishlists.domain.groups import Group
from wishlists.domain.model import Item, Person, Wishlist
from wishlists.domain.reservations import shown_reserved
from wishlists.domain.surprise import Audience, disclose, recipients
from wishlists.domain.validation import format_price
from wishlists.events.paging import pages

CancelReason = Literal["cancelled", "reserver_deleted"]
DeleteReason = Literal["deleted", "owner_deleted"]
SharedVia = Literal["email", "link", "group"]


async def _add_paged(
    session: AsyncSession,
    payload: EventPayload,
    *,
    recipients: Sequence[uuid.UUID],
    viewers: Sequence[uuid.UUID] | None = None,
) -> None:
    """Adds ``payload`` (built with an empty audience) once per page of its audience, in one
    statement."""
    await add_events(session, outbox, pages(payload, recipients=recipients, viewers=viewers))


def wishlist_ref(wishlist: Wishlist) -> WishlistRef:
    return WishlistRef(
        id=wishlist.id,
        title=wishlist.title,
        owner_id=wishlist.owner_id,
        owner_display_name=wishlist.owner_display_name,
        occasion_date=wishlist.occasion_date,
    )


def group_ref(group: Group) -> GroupRef:
    return GroupRef(
        id=group.id,
        name=group.name,
        owner_id=group.owner_id,
        owner_display_name=group.owner_display_name,
    )


def item_snapshot(item: Item) -> ItemSnapshot:
    """The item as anyone may read it, its owner included."""
    view = disclose(item, Audience.ANYONE)
    shown = view.item
    return ItemSnapshot(
        id=shown.id,
        title=shown.title,
        url=shown.url,
        price=format_price(shown.price),
        currency=shown.currency,
        image_url=shown.image_url,
        quantity=shown.quantity,
        priority=shown.priority,
        notes=shown.notes,
        created_at=shown.created_at,
        updated_at=shown.updated_at,
    )


async def wishlist_shared(
    session: AsyncSession,
    wishlist: Wishlist,
    *,
    share_id: uuid.UUID,
    viewer_id: uuid.UUID,
    via: SharedVia,
    group: Group | None = None,
) -> None:
    """Tells a new viewer; callers publish it only to who could not see the list before."""
    await _add_paged(
        session,
        WishlistSharedV2(
            wishlist=wishlist_ref(wishlist),
            share_id=share_id,
            viewer_id=viewer_id,
            via=via,
            group=group_ref(group) if group is not None else None,
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, [viewer_id]),
    )


async def share_invited(
    session: AsyncSession, wishlist: Wishlist, *, share_id: uuid.UUID, email: str
) -> None:
    """A pending share: the address gets an invitation, as nobody here has it as an account."""
    await add_event(
        session,
        outbox,
        ShareInvited(wishlist=wishlist_ref(wishlist), share_id=share_id, email=email),
    )


async def group_member_added(
    session: AsyncSession, group: Group, *, member_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Tells a registered user they were added (the owner never: they made the group)."""
    await _add_paged(
        session,
        GroupMemberAdded(
            group=group_ref(group),
            member_id=member_id,
            recipient_ids=(),
        ),
        recipients=recipients(group.owner_id, [user_id]),
    )


async def group_invited(
    session: AsyncSession, group: Group, *, membership_id: uuid.UUID, email: str
) -> None:
    """A pending membership: the address gets an invitation, as nobody here has it as an account."""
    await add_event(
        session,
        outbox,
        GroupInvited(group=group_ref(group), membership_id=membership_id, email=email),
    )


async def item_added(
    session: AsyncSession, wishlist: Wishlist, item: Item, viewers: Iterable[uuid.UUID]
) -> None:
    await _add_paged(
        session,
        ItemAdded(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers),
    )


async def item_updated(
    session: AsyncSession, wishlist: Wishlist, item: Item, viewers: Iterable[uuid.UUID]
) -> None:
    await _add_paged(
        session,
        ItemUpdated(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers),
    )


def _reservers_among_viewers(
    wishlist: Wishlist, viewers: Iterable[uuid.UUID], reservers: Iterable[uuid.UUID]
) -> tuple[tuple[uuid.UUID, ...], tuple[uuid.UUID, ...]]:
    """The list's viewers, and those of them who reserved the item: a reserver who no
    longer views the list lost sight of it when their share ended, and is not told."""
    seeing = recipients(wishlist.owner_id, viewers)
    visible = set(seeing)
    return seeing, recipients(wishlist.owner_id, (r for r in reservers if r in visible))


async def item_deleted(
    session: AsyncSession,
    wishlist: Wishlist,
    item: Item,
    *,
    viewers: Iterable[uuid.UUID],
    reservers: Iterable[uuid.UUID],
) -> None:
    """Tells the viewers the item is gone, and names those of them who had reserved it.

    Reservers who are no longer viewers are not told: they lost sight of the
    list when their share was revoked.
    """
    seeing, told = _reservers_among_viewers(wishlist, viewers, reservers)
    await _add_paged(
        session,
        ItemDeleted(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            viewer_ids=(),
            recipient_ids=(),
        ),
        recipients=told,
        viewers=seeing,
    )


def item_reserved(
    wishlist: Wishlist,
    item: Item,
    *,
    reserved: int,
    viewers: Iterable[uuid.UUID],
    reserver_id: uuid.UUID,
) -> NewEvents:
    """The event, serialised and paged, for the reservation's own statement to save
    (:func:`wishlists.db.reservations.add`): one round trip fewer on the hottest write."""
    return new_events(
        pages(
            ItemReserved(
                wishlist=wishlist_ref(wishlist),
                item=item_snapshot(item),
                reserved_quantity=shown_reserved(item.quantity, reserved),
                recipient_ids=(),
            ),
            recipients=recipients(wishlist.owner_id, viewers, excluding=[reserver_id]),
        )
    )


async def reservation_cancelled(
    session: AsyncSession,
    wishlist: Wishlist,
    item: Item,
    *,
    reserved: int,
    viewers: Iterable[uuid.UUID],
    reserver_id: uuid.UUID,
    reason: CancelReason,
) -> None:
    await _add_paged(
        session,
        ReservationCancelled(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            reserved_quantity=shown_reserved(item.quantity, reserved),
            reason=reason,
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers, excluding=[reserver_id]),
    )


async def wishlist_deleted(
    session: AsyncSession, wishlist: Wishlist, *, viewers: Iterable[uuid.UUID], reason: DeleteReason
) -> None:
    await _add_paged(
        session,
        WishlistDeleted(
            wishlist=wishlist_ref(wishlist),
            reason=reason,
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers),
    )


async def item_suggested(
    session: AsyncSession,
    wishlist: Wishlist,
    item: Item,
    *,
    viewers: Iterable[uuid.UUID],
    suggester: Person,
) -> None:
    """Tells the other viewers; the owner is never among them (see ``recipients``)."""
    await _add_paged(
        session,
        ItemSuggested(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            suggested_by_id=suggester.id,
            suggested_by_display_name=suggester.display_name,
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers, excluding=[suggester.id]),
    )


async def item_received(
    session: AsyncSession,
    wishlist: Wishlist,
    item: Item,
    *,
    viewers: Iterable[uuid.UUID],
    reservers: Iterable[uuid.UUID],
) -> None:
    """Tells the viewers the item left the list, and names those of them who reserved it."""
    seeing, told = _reservers_among_viewers(wishlist, viewers, reservers)
    await _add_paged(
        session,
        ItemReceived(
            wishlist=wishlist_ref(wishlist),
            item=item_snapshot(item),
            viewer_ids=(),
            recipient_ids=(),
        ),
        recipients=told,
        viewers=seeing,
    )


async def wishlist_revealed(
    session: AsyncSession,
    wishlist: Wishlist,
    *,
    revealed_at: datetime,
    received: Sequence[Item],
    viewers: Iterable[uuid.UUID],
) -> None:
    """Tells every viewer, naming how many items were received and the first few of them.

    ``received`` in the order the owner added them (the sample's order). Only
    id and title of the sample travel, as :func:`item_snapshot` would show them.
    """
    sample = tuple(
        ReceivedItem(id=shown.id, title=shown.title)
        for shown in (disclose(i, Audience.ANYONE).item for i in received[:REVEALED_SAMPLE_MAX])
    )
    await _add_paged(
        session,
        WishlistRevealedV2(
            wishlist=wishlist_ref(wishlist),
            revealed_at=revealed_at,
            received_count=len(received),
            received_sample=sample,
            recipient_ids=(),
        ),
        recipients=recipients(wishlist.owner_id, viewers),
    )
