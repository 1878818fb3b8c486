"""Statements compiled once and run straight on the pooled asyncpg connection.

For the hottest reads only. SQLAlchemy's execution of a statement it has
compiled before still costs on every call: the statement's cache key, its
parameters, an execution context, the DBAPI adapter's cursor, a greenlet hop
per call and rows passed through result processors. For a read of a list
that came to about three times what the same round trips cost on asyncpg
alone (2026-12-08, 1.3 ms against 0.45 ms of CPU per read, one at a time).

Here SQLAlchemy still builds and compiles the statement (:class:`Statement`,
once per process: the same SQL text it sends itself, with its bind
processors), and the connection still comes from the engine's pool, with its
idle ping and its invalidation of every older connection once one turns out
to be lost (:func:`connection`). Only the execution is asyncpg's own. Rows
come back as asyncpg decodes them, which for the column types used with it
(uuid, text, integers, numeric, timestamps, booleans, and json through the
codec SQLAlchemy installs on each connection) is what SQLAlchemy returns too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class Statement:
    """A statement compiled for asyncpg, run with named values for its ``bindparam``\\ s."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        # Per positional parameter: whose value it takes (the caller's, by name,
        # for a ``bindparam`` built without one), and SQLAlchemy's processing.
        self._slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if bind.required:
                self._slots.append((name, None, process))
                continue
            fixed = compiled.params[name]
            if process is not None and fixed is not None:
                fixed = process(fixed)
            self._slots.append((None, fixed, None))

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        """The positional arguments of one execution; ``values`` by ``bindparam`` name."""
        out = []
        for given, fixed, process in self._slots:
            value = fixed if given is None else values[given]
            out.append(value if process is None or value is None else process(value))
        return out

    async def fetch(self, connection: asyncpg.Connection, **values: Any) -> list[asyncpg.Record]:
        return await connection.fetch(self.sql, *self.arguments(values))

    async def execute(self, connection: asyncpg.Connection, **values: Any) -> None:
        await connection.execute(self.sql, *self.arguments(values))


class ConnectionLost(ConnectionError):  # noqa: N818 - reads as the condition
    """The server went away under a statement: an outage to wait out, not a bug."""


@asynccontextmanager
async def connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A connection of ``engine``'s pool as asyncpg's own, returned to the pool afterwards.

    A connection found closed (the server went away) is invalidated with every
    connection the pool opened before it, as SQLAlchemy does when its own
    statement meets a lost connection: at checkout another is taken instead,
    under a statement the error is :class:`ConnectionLost`. One left inside a
    transaction (the block was cancelled mid-statement) is closed rather than
    handed to the next caller with the settings of this one.
    """
    pooled = await engine.raw_connection()
    driver = _driver_of(pooled)
    if driver.is_closed():
        await greenlet_spawn(_invalidate_older, engine, pooled, None)
        pooled = await engine.raw_connection()
        driver = _driver_of(pooled)
    try:
        yield driver
    except Exception as exc:
        if driver.is_closed():
            await greenlet_spawn(_invalidate_older, engine, pooled, exc)
            raise ConnectionLost("the database connection was lost") from exc
        await greenlet_spawn(_release, pooled, driver)
        raise
    except BaseException:
        await greenlet_spawn(_release, pooled, driver)
        raise
    await greenlet_spawn(_release, pooled, driver)


def _driver_of(pooled: PoolProxiedConnection) -> asyncpg.Connection:
    driver = pooled.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return driver


# Both run in SQLAlchemy's greenlet: the pool may close a connection (an
# overflow one, an invalidated one), which awaits.


def _invalidate_older(
    engine: AsyncEngine, pooled: PoolProxiedConnection, exc: BaseException | None
) -> None:
    # The pool's own reaction to a lost connection, which has no public name.
    engine.sync_engine.pool._invalidate(pooled, exc)


def _release(pooled: PoolProxiedConnection, driver: asyncpg.Connection) -> None:
    if driver.is_in_transaction():
        pooled.invalidate()
        return
    pooled.close()
