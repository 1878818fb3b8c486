"""How each domain error is told to a client (RFC 9457 problem details)."""

from __future__ import annotations

from notifier.domain.errors import NotificationNotFound
from wishlist_shared.problems import ProblemType

DOMAIN_ERRORS: dict[type[Exception], ProblemType] = {
    NotificationNotFound: ProblemType(404, "not-found", "Not Found"),
}
