"""Events that arrive while the transactions are busy are written together, and a batch's
failure is never another event's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from notifier.events.batches import Batcher


class Writer:
    """Records what was written alone and in batches; fails for events named in ``poison``."""

    def __init__(self, poison: frozenset[str] = frozenset()) -> None:
        self.poison = poison
        self.alone: list[str] = []
        self.together: list[list[str]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.batch_open = asyncio.Event()
        self.batch_open.set()

    async def one(self, item: str) -> None:
        await self.open.wait()
        if item in self.poison:
            raise ValueError(item)
        self.alone.append(item)

    async def many(self, items: Sequence[str]) -> None:
        await self.open.wait()
        await self.batch_open.wait()
        if self.poison & set(items):
            raise ValueError(items)
        self.together.append(list(items))


async def test_an_event_with_a_free_slot_is_written_at_once_alone() -> None:
    writer = Writer()
    batcher = Batcher(writer.one, writer.many, slots=2, most=8)
    await batcher.submit("a")
    assert writer.alone == ["a"]
    assert writer.together == []


async def test_events_arriving_while_the_slots_are_busy_go_together_up_to_the_most() -> None:
    writer = Writer()
    writer.open.clear()
    batcher = Batcher(writer.one, writer.many, slots=1, most=3)
    first = asyncio.create_task(batcher.submit("first"))
    await asyncio.sleep(0)  # "first" holds the only slot, blocked
    rest = [asyncio.create_task(batcher.submit(name)) for name in "abcde"]
    await asyncio.sleep(0)
    writer.open.set()
    await asyncio.wait_for(asyncio.gather(first, *rest), timeout=5)
    assert writer.alone == ["first"]
    # In arrival order, three at most; what is left over goes with the next.
    assert writer.together == [["a", "b", "c"], ["d", "e"]]


async def test_a_failing_batch_writes_each_event_alone_and_only_the_bad_one_fails() -> None:
    writer = Writer(poison=frozenset({"bad"}))
    writer.open.clear()
    batcher = Batcher(writer.one, writer.many, slots=1, most=8)
    first = asyncio.create_task(batcher.submit("first"))
    await asyncio.sleep(0)
    others = {name: asyncio.create_task(batcher.submit(name)) for name in ("a", "bad", "b")}
    await asyncio.sleep(0)
    writer.open.set()
    await first
    await others["a"]
    await others["b"]
    with pytest.raises(ValueError, match="bad"):
        await others["bad"]
    assert writer.together == []
    assert sorted(writer.alone) == ["a", "b", "first"]


async def test_a_cancelled_batch_leaves_no_handler_waiting() -> None:
    writer = Writer()
    writer.open.clear()
    writer.batch_open.clear()
    batcher = Batcher(writer.one, writer.many, slots=1, most=8)
    first = asyncio.create_task(batcher.submit("first"))
    await asyncio.sleep(0)
    a, b = asyncio.create_task(batcher.submit("a")), asyncio.create_task(batcher.submit("b"))
    await asyncio.sleep(0)
    writer.open.set()
    await first
    for _ in range(5):  # "a" takes the slot and writes the batch of both, blocked
        await asyncio.sleep(0)
    assert writer.together == []
    # Its handler stops (a shutdown): "b" is written all the same, alone.
    a.cancel()
    writer.batch_open.set()
    await asyncio.wait_for(asyncio.gather(a, b, return_exceptions=True), timeout=5)
    assert a.cancelled()
    assert writer.alone == ["first", "b"]
    assert writer.together == []
