"""Telling "a server we need is down" apart from a bug.

One function, :func:`dependency_unavailable`, decides for both sides:

- A request that fails because PostgreSQL, Redis or the SMTP server cannot be
  used right now (restarting, failing over, a pool with no free connection, a
  role an operator locked out) is answered 503 with ``Retry-After``, so clients
  and load balancers retry instead of reporting an error; everything else stays
  a 500.
- An event handler that fails that way is waited out by its consumer for as
  long as the outage lasts (:mod:`wishlist_shared.messaging`); any other
  failure is retried a few times and then dead-lettered.

The exception that reaches the handler is often a wrapper (SQLAlchemy's
``DBAPIError`` around asyncpg's), so the whole chain of causes is searched.
"""

from __future__ import annotations

import socket

import asyncpg.exceptions
import sqlalchemy.exc
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wishlist_shared.revocation import RevocationListIncomplete

RETRY_AFTER_SECONDS = 2
"""What a 503 asks clients to wait: about as long as a server restart takes."""

_UNREACHABLE: tuple[type[BaseException], ...] = (
    # The network: refused, reset, aborted, timed out, and so aiosmtplib's
    # connect, disconnect and timeout errors, which are these too; a name
    # that does not resolve. Not every OSError: a missing file or a denied
    # permission is a bug or a setup to fix, and waiting would never end.
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    # Class 08 raised by asyncpg itself (a connection closed under it).
    asyncpg.exceptions.PostgresConnectionError,
    # SQLAlchemy's pool had no connection to give within its timeout.
    sqlalchemy.exc.TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    # Redis came back empty and auth is restoring the list: a second or so.
    RevocationListIncomplete,
)

_TRANSIENT_SQLSTATE_CLASSES = frozenset(
    {
        # Connection exceptions: lost, never established, refused.
        "08",
        # Invalid authorization: an operator locked the role out (``ALTER ROLE
        # ... NOLOGIN``: "role ... is not permitted to log in") or changed its
        # password. The server is fine; this service may not use it yet.
        "28",
        # Insufficient resources: too many connections, disk or memory full.
        "53",
        # Operator intervention: shutting down, starting up, recovering,
        # terminated or cancelled by an administrator.
        "57",
    }
)
_CONFLICT_SQLSTATES = frozenset(
    {
        # The transaction lost a race with another: running it again succeeds.
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
    }
)

_DEPENDENCY_UNAVAILABLE_SLUG = "dependency-unavailable"


def _transient_sqlstate(exc: BaseException) -> bool:
    if not isinstance(exc, asyncpg.exceptions.PostgresError):
        return False
    state = str(exc.sqlstate or "")
    return state in _CONFLICT_SQLSTATES or state[:2] in _TRANSIENT_SQLSTATE_CLASSES


def _is_dependency_unavailable_problem(exc: BaseException) -> bool:
    # A Problem (wishlist_shared.problems, which imports this module) some
    # code raised to say the same thing in HTTP terms.
    problem_type = getattr(exc, "problem_type", None)
    return getattr(problem_type, "slug", None) == _DEPENDENCY_UNAVAILABLE_SLUG


def _network_oserror(exc: BaseException) -> bool:
    # asyncio raises a bare OSError when every address of a host refused
    # ("Multiple exceptions: ...") and for an unreachable network or host.
    return type(exc) is OSError


def dependency_unavailable(exc: BaseException) -> bool:
    """True when ``exc``, or anything that caused it, says a dependency cannot be used now.

    "Now" is the point: the same operation is expected to succeed once the
    server is back (or the competing transaction is done), so retrying it,
    however long that takes, is right, and giving up on it would be wrong.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (
            isinstance(current, _UNREACHABLE)
            or _network_oserror(current)
            or _transient_sqlstate(current)
        ):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        if _is_dependency_unavailable_problem(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def transaction_conflict(exc: BaseException) -> bool:
    """True when ``exc`` is (or was caused by) a serialization failure or a deadlock.

    A kind of :func:`dependency_unavailable` that says nothing about the
    server: it answers, and the same work succeeds at once when run again. A
    consumer retries it without pausing the others.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.exceptions.PostgresError) and (
            str(current.sqlstate or "") in _CONFLICT_SQLSTATES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
