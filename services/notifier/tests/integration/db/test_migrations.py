"""The hand-written migrations create exactly the tables the code declares, and their rules hold."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from notifier.db.tables import SCHEMA, metadata
from wishlist_shared.testing.migrations import schema_differences
from wishlist_shared.testing.plugin import MakeDatabase


async def test_migrated_schema_matches_the_table_definitions(make_database: MakeDatabase) -> None:
    database = await make_database(["notifier"])
    differences = await schema_differences(database.urls["notifier"], SCHEMA, metadata)
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
