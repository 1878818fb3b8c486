"""The surprise rule: the owner of a list never learns whether, how much or by whom
anything on it is reserved.

Every item that leaves this service, in an HTTP response or in an event, is
built by :func:`disclose`; it alone decides whether reservation facts go with
it, and it gives them to viewers only. Every recipient list of an event is
built by :func:`recipients`, which never holds the owner. Routes and event
builders do not read reservation data any other way, so one test of these two
functions covers every path to the owner.

Suggestions follow the same rule: ``disclose`` names a suggester to viewers,
to the owner only once a reveal uncovered the item, and refuses outright to
describe an unrevealed suggestion to the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from wishlists.domain.access import Role
from wishlists.domain.model import NO_RESERVATIONS, Item, NamedReservation, Person, Tally
from wishlists.domain.reservations import shown_reserved


class Audience(Enum):
    """Who an item is being described to."""

    OWNER = "owner"
    VIEWER = "viewer"
    ANYONE = "anyone"
    """Link visitors and events: whoever reads it may be the owner."""


def audience_of(role: Role) -> Audience:
    return Audience.VIEWER if role is Role.VIEWER else Audience.OWNER


@dataclass(frozen=True)
class ReservationFacts:
    """What a viewer may know about an item's reservations."""

    reserved_quantity: int
    reserved_by_me: bool
    named: tuple[NamedReservation, ...] = ()
    """The reservations whose reservers chose to show their name to the other viewers."""


@dataclass(frozen=True)
class ItemView:
    item: Item
    reservations: ReservationFacts | None
    """None for every audience but a viewer: then nothing about reservations exists."""
    suggested_by: Person | None = None
    """Who suggested the item, for an audience that may know it."""


class SuggestionHidden(Exception):  # noqa: N818 - reads as the condition it reports
    """An unrevealed suggestion was about to be described to the owner: a bug, never an answer."""


def _suggester(item: Item, audience: Audience) -> Person | None:
    if audience is Audience.VIEWER:
        return item.suggester
    if audience is Audience.OWNER and item.revealed_at is not None:
        # The owner's queries find no unrevealed suggestion (row-level
        # security); this holds the line a second time.
        return item.suggester
    return None


def disclose(item: Item, audience: Audience, tally: Tally | None = None) -> ItemView:
    """``item`` as ``audience`` may see it: the one gate for reservation facts.

    A viewer gets the reserved quantity (never more than the item's current
    quantity, which the owner may have lowered), whether they reserved it
    themselves and the reservations shown with a name, and who suggested it;
    anyone else gets the item alone (the owner also who suggested it, once
    revealed), and ``tally`` is ignored whatever it holds.
    """
    if audience is Audience.OWNER and item.suggestion and item.revealed_at is None:
        raise SuggestionHidden()
    if audience is not Audience.VIEWER:
        return ItemView(item, None, _suggester(item, audience))
    known = tally or NO_RESERVATIONS
    return ItemView(
        item,
        ReservationFacts(
            reserved_quantity=shown_reserved(item.quantity, known.reserved),
            reserved_by_me=known.mine,
            named=known.named,
        ),
        _suggester(item, audience),
    )


def recipients(
    owner_id: uuid.UUID, candidates: Iterable[uuid.UUID], *, excluding: Iterable[uuid.UUID] = ()
) -> tuple[uuid.UUID, ...]:
    """Whom an event about the owner's list may be addressed to: never the owner.

    Sorted and without duplicates, so that the same situation always makes
    the same payload.
    """
    left_out = {owner_id, *excluding}
    return tuple(sorted({c for c in candidates if c not in left_out}))
