"""The hand-written migration creates exactly the tables the code declares, and undoes them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from wishlist_shared.db import engine as db
from wishlist_shared.testing.databases import TestDatabase as Database
from wishlists.db.tables import SCHEMA, metadata

SERVICE_DIR = Path(__file__).resolve().parents[3]


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


async def test_migrated_schema_matches_the_table_definitions(database: Database) -> None:
    # With "wishlists" as the default schema, Alembic would reflect its tables
    # as schema-less and see every one as missing; name it explicitly instead.
    engine = db.create_engine(database.urls["wishlists"], "public", pool_size=1)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "\n".join(map(repr, differences))


async def _alembic(database: Database, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        *args,
        cwd=SERVICE_DIR,
        env={**os.environ, "WISHLISTS_DATABASE_URL": database.urls["wishlists"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


async def test_the_migration_downgrades_cleanly_and_upgrades_again(
    database: Database, admin: asyncpg.Connection
) -> None:
    await _alembic(database, "downgrade", "base")
    left = await admin.fetch(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'wishlists'::regnamespace"
        " AND c.relname NOT LIKE 'alembic_version%'"
        " UNION ALL"
        " SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'wishlists'::regnamespace"
    )
    assert [r[0] for r in left] == []
    await _alembic(database, "upgrade", "head")
    forced = await admin.fetchval(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'wishlists'::regnamespace"
        " AND relrowsecurity AND relforcerowsecurity"
    )
    assert forced == 4
