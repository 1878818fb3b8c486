"""Statements run on the driver's connection answer as SQLAlchemy would, and lost or
half-finished connections never reach the next caller."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from wishlist_shared.db import driver
from wishlist_shared.db import engine as db
from wishlist_shared.outages import dependency_unavailable
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import MakeDatabase

SCHEMA = "drivertest"
metadata = MetaData(schema=SCHEMA)
things = Table(
    "things",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text),
    Column("price", Numeric(asdecimal=True)),
    Column("count", Integer, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
ROWS = [
    {
        "id": uuid.UUID(int=n + 1),
        "name": f"thing {n}" if n else None,
        "price": Decimal("19.99") if n else None,
        "count": n,
        "done": bool(n % 2),
        "at": datetime(2026, 1, 1 + n, 12, tzinfo=UTC),
    }
    for n in range(3)
]


@pytest.fixture
async def admin_url(make_database: MakeDatabase) -> str:
    return (await make_database([])).admin_url


@pytest.fixture
async def engine(admin_url: str) -> AsyncIterator[AsyncEngine]:
    url = make_url(admin_url).set(drivername="postgresql+asyncpg")
    created = db.create_engine(url.render_as_string(hide_password=False), SCHEMA, pool_size=2)
    async with created.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
        await conn.execute(things.insert(), ROWS)
    yield created
    await created.dispose()


async def _backend(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def test_a_compiled_statement_answers_what_sqlalchemy_answers(engine: AsyncEngine) -> None:
    query = (
        select(
            things,
            func.json_agg(func.json_build_array(things.c.name, things.c.count))
            .over(order_by=things.c.id)
            .label("so_far"),
        )
        .where(things.c.count >= bindparam("least", type_=Integer), things.c.done.is_not(None))
        .order_by(things.c.id)
    )
    async with engine.connect() as conn:
        expected = [tuple(row) for row in (await conn.execute(query, {"least": 1})).all()]

    async with driver.connection(engine) as connection:
        rows = await driver.Statement(query).fetch(connection, least=1)

    assert [tuple(row) for row in rows] == expected
    assert len(expected) == 2
    assert expected[1][-1] == [["thing 1", 1], ["thing 2", 2]]


async def test_a_statement_wants_every_value_it_was_built_without(engine: AsyncEngine) -> None:
    statement = driver.Statement(select(things.c.id).where(things.c.id == bindparam("id")))
    async with driver.connection(engine) as connection:
        with pytest.raises(KeyError):
            await statement.fetch(connection)


async def test_a_connection_is_reused_after_a_failed_statement(engine: AsyncEngine) -> None:
    async with driver.connection(engine) as connection:
        first = await _backend(connection)
    with pytest.raises(asyncpg.UndefinedTableError):
        async with driver.connection(engine) as connection:
            await connection.fetch("SELECT * FROM drivertest.nothing")
    async with driver.connection(engine) as connection:
        assert await _backend(connection) == first


async def _terminate(admin_url: str, backends: set[int]) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)",
            list(backends),
        )

        async def gone() -> bool:
            return not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", list(backends)
            )

        await eventually(gone, message="the backends outlived their termination")
    finally:
        await admin.close()


async def test_connections_lost_while_pooled_are_replaced_before_use(
    engine: AsyncEngine, admin_url: str
) -> None:
    # Two pooled connections, both opened before the server loses them.
    async with driver.connection(engine) as one, driver.connection(engine) as two:
        backends = {await _backend(one), await _backend(two)}
    await _terminate(admin_url, backends)
    for _ in range(2):
        async with driver.connection(engine) as connection:
            assert await _backend(connection) not in backends


async def test_a_connection_lost_under_a_statement_is_an_outage_and_takes_the_older_ones(
    engine: AsyncEngine, admin_url: str
) -> None:
    async with driver.connection(engine) as one, driver.connection(engine) as two:
        backends = {await _backend(one), await _backend(two)}

    async def lose_it_under_a_statement() -> None:
        async with driver.connection(engine) as connection:
            backend = await _backend(connection)
            sleeping = asyncio.create_task(connection.fetch("SELECT pg_sleep(30)"))
            await _terminate(admin_url, {backend})
            await sleeping

    with pytest.raises(driver.ConnectionLost) as failed:
        await lose_it_under_a_statement()
    # Told as an outage (503 and Retry-After), not as a bug.
    assert dependency_unavailable(failed.value)
    # The pool's other connection is alive, but as old as the lost one: replaced too.
    async with driver.connection(engine) as one, driver.connection(engine) as two:
        assert not {await _backend(one), await _backend(two)} & backends


async def test_a_connection_left_in_a_transaction_does_not_carry_it_to_the_next_caller(
    engine: AsyncEngine,
) -> None:
    # As a block cancelled mid-statement leaves it: its transaction still open.
    async with driver.connection(engine) as connection:
        await connection.execute("BEGIN")
        await connection.execute("SELECT set_config('app.user_id', 'someone', true)")
    async with driver.connection(engine) as connection:
        assert not connection.is_in_transaction()
        assert not await connection.fetchval("SELECT current_setting('app.user_id', true)")
