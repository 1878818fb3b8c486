"""One event per page of its audience, so that every envelope fits in ``MAX_EVENT_BYTES``.

An event names its audience (``recipient_ids``, and for some ``viewer_ids``),
and a list's audience can be about 2,500 users: 500 shares and 20 groups of
100 (``wishlists.domain.limits``). At 39 bytes a UUID that alone would be
too big for one message, so an event whose audience does not fit goes out as
several, each with the same fields and a share of the audience:

- each recipient is in exactly one page, so a consumer that notifies once per
  (event, recipient) still notifies each of them once;
- for an event with viewers and recipients (the reservers, who are viewers
  too), the viewers are paged and each recipient goes in the page holding
  them as a viewer.

Pages are cut by bytes, measured on the event itself with no audience
(:func:`wishlist_shared.events.encoded_size`): the room left is exact
whatever its text fields hold, and the largest event without its audience
(an item with every text field full, in the costliest characters) stays
under half the limit, so a page always holds hundreds of users.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from wishlist_shared.events import MAX_EVENT_BYTES, Envelope, EventPayload, encoded_size

P = TypeVar("P", bound=EventPayload)

ID_BYTES = len('"00000000-0000-0000-0000-000000000000",')
"""What one more UUID adds to a JSON array: the quoted UUID and a comma."""
SLACK_BYTES = 64
"""Room kept for what differs between the measured envelope and the published one:
its ``occurred_at`` (microseconds are left out when zero), nothing else."""
BARE_MAX_BYTES = MAX_EVENT_BYTES // 2
"""What any event takes without its audience at most (its tests check the largest)."""


def pages(
    payload: P,
    *,
    recipients: Sequence[uuid.UUID],
    viewers: Sequence[uuid.UUID] | None = None,
    limit: int = MAX_EVENT_BYTES,
) -> list[P]:
    """``payload`` once per page of ``recipients`` (and ``viewers``); at least one page.

    ``payload`` is the event with an empty audience; each page sets
    ``recipient_ids`` (and ``viewer_ids`` when ``viewers`` is given). Orders
    are kept. A recipient who is not among ``viewers`` gets a page place of
    their own, without a viewer entry.
    """
    told = set(recipients)
    # Each unit is one user of the audience: (as a viewer?, as a recipient?).
    units: list[tuple[uuid.UUID, bool, bool]]
    if viewers is None:
        units = [(r, False, True) for r in recipients]
    else:
        seen = set(viewers)
        units = [(v, True, v in told) for v in viewers]
        units += [(r, False, True) for r in recipients if r not in seen]
    if ID_BYTES * sum(v + r for _, v, r in units) <= limit - SLACK_BYTES - BARE_MAX_BYTES:
        # Fits whatever the event holds: no need to serialise it to measure it
        # (the outbox measures what it stores anyway). Most lists end here.
        return [_page(payload, units, with_viewers=viewers is not None)]
    room = limit - SLACK_BYTES - encoded_size(Envelope.wrap(payload))
    chunks: list[list[tuple[uuid.UUID, bool, bool]]] = [[]]
    used = 0
    for unit in units:
        cost = ID_BYTES * (unit[1] + unit[2])
        if cost > room:
            raise ValueError(f"{payload.routing_key} leaves no room for its audience")
        if used + cost > room:
            chunks.append([])
            used = 0
        chunks[-1].append(unit)
        used += cost
    return [_page(payload, chunk, with_viewers=viewers is not None) for chunk in chunks]


def _page(payload: P, chunk: list[tuple[uuid.UUID, bool, bool]], *, with_viewers: bool) -> P:
    audience = {"recipient_ids": tuple(user for user, _, told in chunk if told)}
    if with_viewers:
        audience["viewer_ids"] = tuple(user for user, viewer, _ in chunk if viewer)
    return payload.model_copy(update=audience)
