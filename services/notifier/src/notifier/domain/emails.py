"""What the notifier emails, and when it tries again: texts, preferences, back-off.

Every text is rendered from what the event or the notification carries and
nothing else. A notification's ``data`` never says who reserved anything (see
:mod:`notifier.domain.notifications`), so neither can an email made from it;
and email goes only to a notification's recipients, who never include the
list's owner for the reservation kinds.

Links go to the web app (``web_url``). The reset token travels in the URL's
fragment, which browsers send to no server: not in a request line (so not in
an access log), not in a ``Referer``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, field_validator

from notifier.domain.notifications import Kind
from wishlist_shared.events import GroupInvited, PasswordResetRequested, ShareInvited

KINDS: tuple[Kind, ...] = get_args(Kind)
Delivery = Literal["immediate", "daily"]
EmailKind = Literal["invitation", "password_reset", "notification", "digest"]

SOMEONE = "Someone"
"""Stands for an owner whose name is unknown or erased (their account was deleted)."""


class EmailPreferences(BaseModel):
    """Which notification kinds a user also wants by email, and how often.

    Off by default: no kind is mailed until the user asks for it.
    """

    model_config = ConfigDict(frozen=True)

    kinds: tuple[Kind, ...] = ()
    delivery: Delivery = "immediate"

    @field_validator("kinds")
    @classmethod
    def _canonical(cls, kinds: tuple[Kind, ...]) -> tuple[Kind, ...]:
        # One order whatever the client sent, duplicates dropped: what is
        # saved and answered is the set.
        return tuple(k for k in KINDS if k in set(kinds))


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


def _base(web_url: str) -> str:
    return web_url.rstrip("/")


def _owner(owned: dict[str, Any] | Any) -> str:
    """The owner's name of a list or group (as data or as the event's ref)."""
    name = owned.get("owner_display_name") if isinstance(owned, dict) else owned.owner_display_name
    return str(name) if name else SOMEONE


def _register_link(email: str, web_url: str) -> str:
    return f"{_base(web_url)}/register?{urlencode({'email': email}, quote_via=quote)}"


def invitation(event: ShareInvited, web_url: str) -> Email:
    """To an address nobody registered with yet: the list is waiting for them."""
    owner, title = _owner(event.wishlist), event.wishlist.title
    link = _register_link(event.email, web_url)
    return Email(
        subject=f"{owner} shared \u201c{title}\u201d with you",
        text=(
            f"Hello,\n\n{owner} shared '{title}' with you \u2014 create an account to see it:"
            f" {link}\n\nRegister with this email address ({event.email}) and the list"
            " appears under \u201cShared with me\u201d.\n\nIf you do not know the sender,"
            " you can ignore this email.\n"
        ),
    )


def group_invitation(event: GroupInvited, web_url: str) -> Email:
    """To an address nobody registered with yet: a group is waiting for them."""
    owner, name = _owner(event.group), event.group.name
    link = _register_link(event.email, web_url)
    return Email(
        subject=f"{owner} invited you to the group \u201c{name}\u201d",
        text=(
            f"Hello,\n\n{owner} invited you to the group '{name}', to share wishlists"
            f" \u2014 create an account to join it: {link}\n\nRegister with this email"
            f" address ({event.email}) and you are a member, with the lists shared with"
            " the group under \u201cShared with me\u201d.\n\nIf you do not know the sender,"
            " you can ignore this email.\n"
        ),
    )


def password_reset(event: PasswordResetRequested, web_url: str, now: datetime) -> Email:
    """The link that sets a new password; its token is good until ``expires_at``."""
    minutes = max(1, round((event.expires_at - now).total_seconds() / 60))
    lifetime = f"{minutes} minute{'s' if minutes != 1 else ''}"
    link = f"{_base(web_url)}/reset-password#token={quote(event.reset_token, safe='')}"
    return Email(
        subject="Reset your Wishlists password",
        text=(
            f"Hello {event.display_name},\n\nsomeone (hopefully you) asked to reset the password"
            f" of your Wishlists account. Choose a new one here:\n\n{link}\n\nThe link works"
            f" once and expires in {lifetime}. If you did not ask for this, ignore this"
            " email: your password stays as it is.\n"
        ),
    )


def _item_title(data: dict[str, Any]) -> str:
    return str(data.get("item", {}).get("title", "an item"))


def _link(data: dict[str, Any], web_url: str) -> str:
    """The page a notification is about: its list, or its group for ``added_to_group``."""
    if "wishlist" in data:
        return f"{_base(web_url)}/wishlists/{quote(str(data['wishlist']['id']), safe='')}"
    return f"{_base(web_url)}/groups/{quote(str(data['group']['id']), safe='')}"


def _suggester(data: dict[str, Any]) -> str:
    name = data.get("suggested_by_display_name")
    return str(name) if name else SOMEONE


# One line per kind: the subject of an immediate email and a digest's entry.
# Only the list, its owner and the item: never the person who reserved (the
# one who suggested is named: the other viewers see that anyway, the owner is
# never a recipient of a suggestion).
_HEADLINES: dict[Kind, Callable[[dict[str, Any]], str]] = {
    "wishlist_shared": lambda d: (
        f"{_owner(d['wishlist'])} shared \u201c{d['wishlist']['title']}\u201d with you"
    ),
    "item_added": lambda d: f"New on \u201c{d['wishlist']['title']}\u201d: {_item_title(d)}",
    "item_reserved": lambda d: (
        f"Someone reserved {_item_title(d)} on \u201c{d['wishlist']['title']}\u201d"
    ),
    "reserved_item_removed": lambda d: (
        f"{_item_title(d)}, which you reserved, was removed from"
        f" \u201c{d['wishlist']['title']}\u201d"
    ),
    "added_to_group": lambda d: (
        f"{_owner(d['group'])} added you to the group \u201c{d['group']['name']}\u201d"
    ),
    "item_suggested": lambda d: (
        f"{_suggester(d)} suggested {_item_title(d)} for \u201c{d['wishlist']['title']}\u201d"
    ),
    "item_received": lambda d: (
        f"{_owner(d['wishlist'])} received {_item_title(d)}, which you reserved"
    ),
    "wishlist_revealed": lambda d: (
        f"{_owner(d['wishlist'])} revealed \u201c{d['wishlist']['title']}\u201d"
    ),
}

_DETAILS: dict[Kind, str] = {
    "wishlist_shared": "You can now see the list and reserve what you will give.",
    "item_added": "Have a look before someone else picks it.",
    "item_reserved": "So that nobody buys it twice; the list's owner is not told.",
    "reserved_item_removed": "Your reservation of it is gone with it.",
    "added_to_group": "The lists shared with the group are now shared with you.",
    "item_suggested": "The list's owner does not see it until they reveal the list.",
    "item_received": "It is in the list's archive of received gifts now.",
    "wishlist_revealed": "They can now see what was given and by whom; the gifts are archived.",
}


def headline(kind: Kind, data: dict[str, Any]) -> str:
    return _HEADLINES[kind](data)


def notification(kind: Kind, data: dict[str, Any], web_url: str) -> Email:
    """A notification, mailed at once."""
    line = headline(kind, data)
    return Email(
        subject=line,
        text=(
            f"{line}.\n\n{_DETAILS[kind]}\n\n{_link(data, web_url)}\n\n"
            f"{_preferences_footer(web_url)}"
        ),
    )


def digest(entries: Sequence[tuple[Kind, dict[str, Any]]], web_url: str) -> Email:
    """Everything of one digest period in one email, oldest first; call with at least one."""
    lines = [f"- {headline(kind, data)}: {_link(data, web_url)}" for kind, data in entries]
    count = len(entries)
    return Email(
        subject=f"Your wishlists digest: {count} update{'s' if count != 1 else ''}",
        text=(
            "Since your last digest:\n\n" + "\n".join(lines) + f"\n\n{_preferences_footer(web_url)}"
        ),
    )


def _preferences_footer(web_url: str) -> str:
    return (
        "You get this email because you turned on email notifications."
        f" Change that in your settings: {_base(web_url)}/settings\n"
    )


def backoff(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 for the first).

    Exponential (``base``, ``2 * base``, ...) up to ``cap``, less up to half of
    it at random, so that emails failing together (an SMTP outage) spread out
    when they come back instead of arriving at the server all at once.
    """
    ceiling: float = min(cap, base * 2.0 ** max(0, attempts - 1))
    return ceiling * (1 - rand() / 2)
