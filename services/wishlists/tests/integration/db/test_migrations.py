"""The hand-written migration creates exactly the tables the code declares, and undoes them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from wishlist_shared.testing.databases import TestDatabase as Database
from wishlist_shared.testing.migrations import schema_differences
from wishlists.db.tables import SCHEMA, metadata

SERVICE_DIR = Path(__file__).resolve().parents[3]


async def test_migrated_schema_matches_the_table_definitions(database: Database) -> None:
    differences = await schema_differences(database.urls["wishlists"], SCHEMA, metadata)
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
    # wishlists, items, shares, reservations; groups, group_members, wishlist_groups
    assert forced == 7
