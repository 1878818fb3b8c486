"""What can go wrong in wishlists, said in the domain's words; the API maps each to a status.

Messages are shown to the caller as they are. None of them may tell a list's
owner anything about reservations: the errors an owner can meet are worded
the same whatever is reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class WishlistsError(Exception):
    """Base of wishlists' domain errors; the message is safe to show to the caller."""


class NotFound(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """The resource does not exist or the caller may not see it: the two look the same."""


class WishlistNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No wishlist with this id.")


class ItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No item with this id in this wishlist.")


class ShareNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No share with this id in this wishlist.")


class LinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This link does not exist or was revoked.")


class GroupNotFound(NotFound):
    # Also what a non-member is told: whether a group exists is its members' business.
    def __init__(self) -> None:
        super().__init__("No group with this id.")


class MemberNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No member with this id in this group.")


class ReservationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No reservation of yours with this id.")


class NoReservationOfYours(NotFound):
    def __init__(self) -> None:
        super().__init__("You have not reserved this item.")


class Forbidden(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """The caller sees the list but may not do this to it."""


class NotOwner(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the owner of this wishlist may do this.")


class OwnerCannotReserve(Forbidden):
    # One sentence for every reservation route: it must not depend on the
    # item's state, or it would tell the owner something.
    def __init__(self) -> None:
        super().__init__("The owner of a wishlist cannot reserve or cancel reservations on it.")


class OwnerCannotSuggest(Forbidden):
    def __init__(self) -> None:
        super().__init__("The owner of a wishlist cannot suggest items for it; add them instead.")


class NotYourSuggestion(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the viewer who suggested this item may change or delete it.")


class NotGroupOwner(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the owner of this group may do this.")


class Conflict(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """The request is valid but the state of things does not allow it now."""


class NotEnoughLeft(Conflict):
    """Only viewers meet this one: they may know how much is left."""

    def __init__(self, left: int) -> None:
        self.left = left
        unit = "unit is" if left == 1 else "units are"
        super().__init__(f"Not enough left to reserve: {left} {unit} still free.")


class AlreadyReserved(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "You already reserved this item; cancel your reservation to reserve another quantity."
        )


class ItemReceived(Conflict):
    """Only viewers meet this one: the owner marked the item received (they know it)."""

    def __init__(self) -> None:
        super().__init__("This item was received already; it can no longer be reserved.")


class RevealBeforeOccasion(Conflict):
    def __init__(self, occasion: date | None) -> None:
        self.occasion = occasion
        when = (
            f"The occasion is on {occasion.isoformat()}"
            if occasion is not None
            else "The list has no occasion date"
        )
        super().__init__(
            f'{when}; a reveal cannot be undone. Send "early": true to reveal now anyway.'
        )


class GroupOwnerStays(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The owner of a group cannot leave it or be removed; delete the group instead."
        )


class LimitReached(Conflict):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"At most {limit} {what}.")


class UrlNotAllowed(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """A link the server will not fetch: not http(s), or pointing at a non-public address."""

    field = "body.url"


class LinkUnreadable(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """The link's page could not be read: unreachable, too slow, too big or not a web page."""


@dataclass(frozen=True)
class FieldError:
    field: str
    """Dotted location as the client sent it (``body.price``)."""
    message: str


class InvalidInput(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    """Input that is well-formed field by field but breaks a rule across fields or state."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class InvalidCursor(WishlistsError):  # noqa: N818 - named for the condition, as domain errors are
    def __init__(self) -> None:
        super().__init__("The cursor is not one this endpoint returned.")
