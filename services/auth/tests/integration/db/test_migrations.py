"""The hand-written migrations create exactly the tables the code declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from auth.db.tables import SCHEMA, metadata
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
    database = await make_database(["auth"])
    # With "auth" as the default schema, Alembic would reflect its tables as
    # schema-less and see every one as missing; name it explicitly instead.
    engine = db.create_engine(database.urls["auth"], "public", pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "\n".join(map(repr, differences))
