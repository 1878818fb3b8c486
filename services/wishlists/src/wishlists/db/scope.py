"""Transactions that tell PostgreSQL whom they run for, which row-level security reads.

Every transaction of this service starts here: :func:`for_user` for a
signed-in caller, :func:`for_link` for a share link (with or without a
caller), :func:`for_system` for event consumers. The settings are
transaction-local (``set_config(..., true)``), so a pooled connection carries
nothing into the next transaction. A transaction that skipped this sees no
rows at all: forgetting fails closed.

:func:`elevated` lifts the policies inside a caller's transaction for the
queries that must look past the caller, which is only "who else is told about
this" (the viewers to notify of a reservation, the reservers of a deleted
item). Their results go into event recipient lists, never into a response.

:func:`reading_for_user` is :func:`for_user` on the driver's own connection,
for the reads too hot for SQLAlchemy's execution (:mod:`wishlist_shared.db.driver`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from wishlist_shared.db import driver

USER = "app.user_id"
LINK = "app.link_hash"
SYSTEM = "app.system"


# Built once: every transaction runs one of these, and building a statement
# (and its cache key) costs more CPU than running it.
_SET = select(
    func.set_config(USER, bindparam("user"), True),
    func.set_config(LINK, bindparam("link"), True),
)
_SET_SYSTEM = _SET.add_columns(func.set_config(SYSTEM, bindparam("system"), True))


async def _set(session: AsyncSession, **values: str) -> None:
    params = {"user": values.get("user", ""), "link": values.get("link", "")}
    statement = _SET
    if "system" in values:
        params["system"] = values["system"]
        statement = _SET_SYSTEM
    # Core, not the ORM's execute: there is nothing to flush or load.
    await (await session.connection()).execute(statement, params)


@asynccontextmanager
async def for_user(session: AsyncSession, user_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """A transaction for ``user_id``: commits when the block ends, rolls back on an error."""
    async with session.begin():
        await _set(session, user=str(user_id))
        yield session


def begin_for_user(user_id: uuid.UUID) -> str:
    """``BEGIN`` and the settings of :func:`for_user`, as one message of two statements.

    One round trip instead of two; such a message (the simple query protocol)
    takes no parameters, so the id is written in: a UUID's text is only hex
    digits and dashes, and nothing else is accepted.
    """
    if type(user_id) is not uuid.UUID:
        raise TypeError(f"a user id is a UUID, not {type(user_id).__name__}")
    return f"BEGIN; SELECT set_config('{USER}', '{user_id}', true), set_config('{LINK}', '', true)"


@asynccontextmanager
async def reading_for_user(
    engine: AsyncEngine, user_id: uuid.UUID
) -> AsyncIterator[asyncpg.Connection]:
    """:func:`for_user` on asyncpg's connection (:mod:`wishlist_shared.db.driver`): the
    same settings in the same kind of transaction, begun by :func:`begin_for_user`."""
    begin = begin_for_user(user_id)
    async with driver.connection(engine) as connection:
        await connection.execute(begin)
        try:
            yield connection
        except BaseException:
            # A connection this leaves inside its transaction is closed, not
            # reused (driver.connection): the error that got here is the one to tell.
            with contextlib.suppress(Exception):
                await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")


@asynccontextmanager
async def for_link(
    session: AsyncSession, token_hash: bytes, user_id: uuid.UUID | None = None
) -> AsyncIterator[AsyncSession]:
    """A transaction that may read the list behind a share link (and act as ``user_id``)."""
    async with session.begin():
        await _set(session, user=str(user_id) if user_id else "", link=token_hash.hex())
        yield session


@asynccontextmanager
async def for_system(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A transaction that sees every row: for event consumers, which act for nobody."""
    async with session.begin():
        await _set(session, system="on")
        yield session


@asynccontextmanager
async def elevated(session: AsyncSession) -> AsyncIterator[None]:
    """Lifts row-level security for the block, inside the caller's transaction.

    Not restored when the block raises: the transaction is failing then, and
    its settings end with it.
    """
    await session.execute(select(func.set_config(SYSTEM, "on", True)))
    yield
    await session.execute(select(func.set_config(SYSTEM, "", True)))
