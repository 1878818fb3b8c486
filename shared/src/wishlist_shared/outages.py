"""Telling "a server we need is down" apart from a bug.

A request that fails because PostgreSQL or Redis cannot be reached right now
(restarting, failing over, a pool with no free connection) is answered 503
with ``Retry-After``, so clients and load balancers retry instead of
reporting an error; everything else stays a 500. The exception that reaches
the handler is often a wrapper (SQLAlchemy's ``DBAPIError`` around asyncpg's),
so the whole chain of causes is searched.
"""

from __future__ import annotations

import asyncpg.exceptions
import sqlalchemy.exc
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wishlist_shared.revocation import RevocationListIncomplete

RETRY_AFTER_SECONDS = 2
"""What a 503 asks clients to wait: about as long as a server restart takes."""

_UNREACHABLE: tuple[type[BaseException], ...] = (
    # The network: refused, reset, timed out (TimeoutError is an OSError).
    OSError,
    # Class 08 (connection exceptions) and 57 (operator intervention: shutting
    # down, starting up, recovering, terminated by an administrator).
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    # SQLAlchemy's pool had no connection to give within its timeout.
    sqlalchemy.exc.TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    # Redis came back empty and auth is restoring the list: a second or so.
    RevocationListIncomplete,
)


def dependency_unavailable(exc: BaseException) -> bool:
    """True when ``exc``, or anything that caused it, says a server is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
