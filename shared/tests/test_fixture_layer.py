"""The fixture layer itself: each test gets its own database, namespace and servers."""

from __future__ import annotations

import aio_pika
import aiormq
import asyncpg
import pytest

from wishlist_shared.testing.plugin import MakeDatabase, fresh_namespace, namespace_queues
from wishlist_shared.testing.servers import Servers
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


async def test_a_namespace_leaves_no_queue_behind(servers: Servers) -> None:
    """Quorum queues left to expire pile up and slow the broker: they go with the namespace."""
    async with fresh_namespace(servers) as ns:
        queues = namespace_queues(servers, ns)
        connection = await aio_pika.connect(servers.rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            for name in queues:
                await channel.declare_queue(
                    name, durable=True, arguments={"x-queue-type": "quorum"}
                )
    assert any(q.endswith(".dlq") for q in queues)
    assert f"{ns.exchange}.unrouted" in queues
    connection = await aio_pika.connect(servers.rabbitmq_url)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
                await channel.declare_queue(name, passive=True)
