"""A whole platform outside pytest: for the soak and the benchmarks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.servers import discover
from wishlist_shared.testing.stack import SERVICES, Stack


@contextlib.asynccontextmanager
async def standalone_stack(repo_root: Path) -> AsyncIterator[Stack]:
    """A stack on a fresh database and namespace of its own, not started yet.

    Whatever happens inside, its processes are stopped, its database and the
    templates dropped, and its namespace's keys and exchanges removed.
    """
    with discover() as servers:
        factory = DatabaseFactory(servers.postgres_admin_url, repo_root)
        try:
            async with fresh_namespace(servers) as namespace:
                database = await factory.create(SERVICES)
                stack = Stack(servers, database, namespace)
                try:
                    yield stack
                finally:
                    await stack.stop()
                    await factory.drop(database.name)
        finally:
            await factory.drop_templates()
