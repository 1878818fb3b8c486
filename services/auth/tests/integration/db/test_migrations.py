"""The hand-written migrations create exactly the tables the code declares."""

from __future__ import annotations

from auth.db.tables import SCHEMA, metadata
from wishlist_shared.testing.migrations import schema_differences
from wishlist_shared.testing.plugin import MakeDatabase


async def test_migrated_schema_matches_the_table_definitions(make_database: MakeDatabase) -> None:
    database = await make_database(["auth"])
    differences = await schema_differences(database.urls["auth"], SCHEMA, metadata)
    assert differences == [], "\n".join(map(repr, differences))
