"""Comparing a service's migrated schema with the tables its code declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from wishlist_shared.db import engine as db


async def schema_differences(database_url: str, schema: str, metadata: MetaData) -> list[Any]:
    """What Alembic would change to make ``schema`` match ``metadata``: [] when they agree."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "version_table_schema": schema,
                "include_name": lambda name, type_, _: type_ != "schema" or name == schema,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(context, metadata))

    # With the service's schema as the default one, Alembic would reflect its
    # tables as schema-less and see every one as missing: connect with
    # "public" first in the search path so the schema is named explicitly.
    engine = db.create_engine(database_url, "public", pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()
