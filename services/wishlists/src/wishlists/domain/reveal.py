"""When the owner may reveal a list: on or after its occasion, or earlier when they say so.

A reveal cannot be taken back (the owner has seen who gave what), so one
before the day, or on a list without a date, needs the owner's explicit
``early``. The day is the occasion's date in UTC, the server's one calendar.
"""

from __future__ import annotations

from datetime import date

from wishlists.domain.errors import RevealBeforeOccasion


def check_reveal(occasion: date | None, today: date, *, early: bool) -> None:
    """:class:`RevealBeforeOccasion` unless the occasion has come or ``early`` is given."""
    if early:
        return
    if occasion is None or occasion > today:
        raise RevealBeforeOccasion(occasion)
