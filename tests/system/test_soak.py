"""The load and soak scenario (tests/load/soak.py) in miniature, so that it cannot rot.

A few users for a few seconds through the same runner as ``make soak``: the
locustfile must still speak the current API (no failed request), the runner
must still read every process's memory, the outbox must still empty
within a second of the end, and nothing may be left on the way (a parked
outbox row, a consumer queue that does not drain, a dead letter). Memory
growth is not judged: too short a run to tell a leak from a warm-up.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import aio_pika
import asyncpg
import pytest

from wishlist_shared.messaging import dead_letter_queue_name
from wishlist_shared.testing.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(240)]

SOAK = Path(__file__).resolve().parents[1] / "load" / "soak.py"


def load_soak() -> ModuleType:
    # tests/ is not a package; the runner is loaded from its file, as the
    # deploy tests load deploy/nginx/render.py.
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses resolve their module by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_a_short_soak_fails_no_request_and_drains_the_outbox(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soak = load_soak()
    options = soak.SoakOptions(users=20, spawn_rate=4, duration=20, sample_every=2)
    report = await soak.run_soak(stack, options, tmp_path)

    with capsys.disabled():
        print("\n" + soak.describe(report))
    assert report.requests > 100
    assert report.problems(check_memory=False) == []
    # The end checks looked at every service's outbox and every consumer queue.
    assert report.parked == {"auth": 0, "wishlists": 0, "notifier": 0}
    assert report.queues_drained_after is not None
    assert report.dead_letters == {}
    assert set(report.memory) == {"auth", "wishlists", "notifier", "gateway"}
    assert all(m["end_kib"] > 0 for m in report.memory.values())


async def test_the_soak_fails_on_a_parked_row_or_a_dead_letter_left_behind(stack: Stack) -> None:
    """The end checks of a run, on a platform where something was left on the way."""
    soak = load_soak()
    settings = soak.platform_settings(stack)
    [queue, *_] = soak.platform_queues(settings)
    database = await asyncpg.connect(stack.database.admin_url)
    try:
        # A row the relay would have set aside: the check reads the state.
        await database.execute(
            "INSERT INTO wishlists.outbox (event_id, routing_key, body, state, refusals)"
            " VALUES (gen_random_uuid(), 'test.refused.v1', '{}', 'parked', 5)"
        )
    finally:
        await database.close()
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.declare_queue(
            dead_letter_queue_name(queue), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=dlq.name)
        report = soak.SoakReport(options=soak.SoakOptions(), started_at="")
        try:
            await soak.left_behind(report, stack)
        finally:
            await dlq.delete(if_unused=False, if_empty=False)

    assert report.parked["wishlists"] == 1
    assert report.dead_letters == {queue: 1}
    problems = report.problems(check_memory=False)
    assert any("outbox rows parked" in p for p in problems), problems
    assert any(f"messages dead-lettered: {{'{queue}': 1}}" in p for p in problems), problems
