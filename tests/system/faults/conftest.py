"""The fault suite's servers, its platform and its table.

It brings servers of its own (:mod:`wishlist_shared.testing.private_servers`)
and never asks for the shared ones (the ``servers`` fixture), so it can stop
and kill them while other tests run beside it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# importlib mode puts no test directory on sys.path; the suite's modules are
# imported by name from here.
sys.path.insert(0, str(Path(__file__).parent))

from fault_report import Row, render

from wishlist_shared.testing.databases import DatabaseFactory
from wishlist_shared.testing.parallel import add_summary
from wishlist_shared.testing.plugin import fresh_namespace
from wishlist_shared.testing.private_servers import PrivateServers
from wishlist_shared.testing.private_servers import private_servers as make_private_servers
from wishlist_shared.testing.stack import SERVICES, Stack

TABLE: list[Row] = []


@pytest.fixture(scope="session")
async def private_servers() -> AsyncIterator[PrivateServers]:
    async with make_private_servers() as made:
        yield made


@pytest.fixture
async def fault_stack(
    private_servers: PrivateServers, pytestconfig: pytest.Config
) -> AsyncIterator[Stack]:
    """The platform's processes on the private servers (the cluster goes with
    the session, so its database is not dropped)."""
    factory = DatabaseFactory(private_servers.servers.postgres_admin_url, pytestconfig.rootpath)
    async with fresh_namespace(private_servers.servers) as namespace:
        database = await factory.create(SERVICES)
        stack = Stack(private_servers.servers, database, namespace)
        try:
            yield stack
        finally:
            await stack.stop()


@pytest.fixture
def fault_table() -> list[Row]:
    return TABLE


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Printed at the end of the run: by the controller when on an xdist worker.
    if TABLE:
        add_summary(session.config, "faults x outcomes", render(TABLE))
