"""The hand-written migrations create exactly the tables the code declares, and their rules hold."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url

from notifier.db.tables import SCHEMA, metadata
from wishlist_shared.db import engine as db
from wishlist_shared.testing.plugin import MakeDatabase


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "version_table_schema": SCHEMA,
            "include_name": lambda name, type_, _: type_ != "schema" or name == SCHEMA,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_table_definitions(make_database: MakeDatabase) -> None:
    database = await make_database(["notifier"])
    # With "notifier" as the default schema, Alembic would reflect its tables as
    # schema-less and see every one as missing; name it explicitly instead.
    engine = db.create_engine(database.urls["notifier"], "public", pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "\n".join(map(repr, differences))


async def test_the_database_keeps_one_notification_per_event_and_recipient(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["notifier"])
    conn = await asyncpg.connect(
        make_url(database.urls["notifier"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    try:
        insert = (
            "INSERT INTO notifications (id, event_id, recipient_id, kind, owner_id, data)"
            " VALUES (gen_random_uuid(), $1, $2, 'item_added', gen_random_uuid(), '{}')"
        )
        event, recipient = uuid.uuid4(), uuid.uuid4()
        await conn.execute(insert, event, recipient)
        await conn.execute(insert, event, uuid.uuid4())
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, event, recipient)
    finally:
        await conn.close()
