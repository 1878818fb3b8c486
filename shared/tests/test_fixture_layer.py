"""The fixture layer itself: each test gets its own database, namespace and servers."""

from __future__ import annotations

import asyncpg

from wishlist_shared.testing.plugin import MakeDatabase
from wishlist_shared.testing.stack import Namespace


async def test_each_call_gives_a_separate_database(make_database: MakeDatabase) -> None:
    first = await make_database([])
    second = await make_database([])
    assert first.name != second.name
    conn = await asyncpg.connect(first.admin_url)
    try:
        await conn.execute("CREATE TABLE only_here (x int)")
    finally:
        await conn.close()
    conn = await asyncpg.connect(second.admin_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('only_here')") is None
    finally:
        await conn.close()


def test_namespaces_never_collide() -> None:
    names = {Namespace.fresh().exchange for _ in range(1000)}
    assert len(names) == 1000
