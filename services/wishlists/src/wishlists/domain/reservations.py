"""Reservation arithmetic: how much is left, what a viewer is shown, when a request fits.

The owner may lower an item's quantity below what is already reserved; doing
so must look the same to the owner as any other edit (a refusal would tell
them something is reserved), so it is always allowed. The reservations stay
as they are: viewers see the reserved quantity capped at the new quantity,
nothing is left to reserve until enough reservations are cancelled, and each
reserver still has theirs on their shopping list.
"""

from __future__ import annotations

from wishlists.domain.errors import NotEnoughLeft

MIN_QUANTITY = 1
MAX_QUANTITY = 99


def left(quantity: int, reserved: int) -> int:
    """Units still free to reserve."""
    return max(0, quantity - reserved)


def shown_reserved(quantity: int, reserved: int) -> int:
    """The reserved quantity a viewer sees: never more than there are units."""
    return min(quantity, max(0, reserved))


def check_fits(quantity: int, reserved: int, wanted: int) -> None:
    """:class:`NotEnoughLeft` unless ``wanted`` more units fit into the item."""
    free = left(quantity, reserved)
    if wanted > free:
        raise NotEnoughLeft(free)
