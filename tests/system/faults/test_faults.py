"""The fault suite: the platform keeps every promise while its parts fail, one at a time.

The whole platform runs as real processes on the real servers. For each
fault, a round of the workload (people registering, sharing lists, adding
items, racing for the last unit, deleting reserved items) runs, and midway
the fault strikes: a server is restarted, or a process is killed with
SIGKILL and started again. Once everything says it is ready again, the
invariants are checked over everything done so far: every write answered 2xx
is in the database; every notification the SPEC asks for exists exactly once
and reached its recipient's socket exactly once (sockets stay open through
all faults and resume with ``after=``); no item is reserved beyond its
quantity; no answer is a 5xx other than a 503 with ``Retry-After``; a token
logged out before the fault stays dead after it. The table of faults x
outcomes is printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import asyncpg
import httpx
import pytest
from fault_invariants import Findings, check_notifications, check_writes, read_notifications
from fault_report import Row
from fault_workload import Api, Ledger, Person, Tally, Workload
from redis.asyncio import Redis

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import UNTHROTTLED, Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(1200)]

SETTLE_SECONDS = 60.0
"""How long notifications may take to arrive once everything is ready again."""


OUTAGE_TRIES = 6
"""Requests the workload tries while a part is down, before it comes back."""


@dataclass(frozen=True)
class Fault:
    name: str
    server: str | None = None
    process: str | None = None

    async def strike(self, stack: Stack, outage_seen: Callable[[], Awaitable[None]]) -> None:
        """Takes the part down, lets the workload run into it, and brings it back."""
        if self.process is not None:
            stack.crash(self.process)
            await outage_seen()
            await stack.start_again(self.process)
            return
        assert self.server is not None
        control = stack.servers.control(self.server)
        assert control, f"no way to stop {self.server} on {stack.servers.source} servers"
        stop, start = control
        await shell(stop)
        await outage_seen()
        await shell(start)
        await eventually(
            functools.partial(answers, stack.servers, self.server),
            timeout=60,
            message=f"{self.server} did not come back",
        )


ALL_FAULTS = (
    Fault("RabbitMQ restarted", server="rabbitmq"),
    Fault("Redis restarted (empty)", server="redis"),
    Fault("PostgreSQL restarted", server="postgresql"),
    Fault("auth killed (SIGKILL)", process="auth"),
    Fault("wishlists killed (SIGKILL)", process="wishlists"),
    Fault("notifier killed (SIGKILL)", process="notifier"),
    Fault("gateway killed (SIGKILL)", process="gateway"),
)
# FAULTS=redis,gateway runs only the faults whose names contain one of those words.
FAULTS = tuple(
    f
    for f in ALL_FAULTS
    if not os.environ.get("FAULTS")
    or any(w.strip().lower() in f.name.lower() for w in os.environ["FAULTS"].split(","))
)


async def shell(command: str) -> None:
    process = await asyncio.create_subprocess_shell(
        command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, f"{command!r} failed:\n{output.decode(errors='replace')}"


async def answers(servers: Servers, server: str) -> bool:
    try:
        if server == "postgresql":
            connection = await asyncpg.connect(servers.postgres_admin_url, timeout=2)
            await connection.close()
        elif server == "redis":
            redis = Redis.from_url(servers.redis_url, socket_connect_timeout=2)
            try:
                await redis.ping()
            finally:
                await redis.aclose()
        else:
            amqp = await aio_pika.connect(servers.rabbitmq_url, timeout=2)
            await amqp.close()
    except Exception:  # noqa: BLE001 - whatever the client says, it is not answering yet
        return False
    return True


async def settle(stack: Stack, ledger: Ledger, workload: Workload) -> Findings:
    """Findings once notifications stopped arriving, or after ``SETTLE_SECONDS``."""

    async def findings() -> Findings:
        db = await asyncpg.connect(stack.database.admin_url)
        try:
            found = await read_notifications(db, ledger)
            result = check_notifications(ledger, found, workload.inboxes)
            await check_writes(db, ledger, result)
        finally:
            await db.close()
        return result

    async def complete() -> Findings:
        result = await findings()
        assert not result.missing_notifications, result.missing_notifications
        assert not result.socket_gaps, result.socket_gaps
        return result

    try:
        return await eventually(complete, timeout=SETTLE_SECONDS, interval=0.5)
    except AssertionError:
        return await findings()


async def revoked_tokens_stay_revoked(api: Api, ledger: Ledger) -> bool:
    for token in ledger.revoked_tokens:
        me, _ = await api.call("GET", "/auth/me", who=Person("", "", "", token), expect=(401,))
        if me.status_code != 401:
            return False
    return True


async def guard_revocations(api: Api, ledger: Ledger, passed: list[str]) -> None:
    """Tries logged-out tokens all through a fault and its recovery, when a
    revocation list that came back empty would let them pass; notes any that does."""
    async with httpx.AsyncClient(base_url=api.http.base_url, timeout=5) as client:
        while True:
            for token in ledger.revoked_tokens:
                with contextlib.suppress(httpx.TransportError):
                    response = await client.get(
                        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
                    )
                    if response.status_code == 200:
                        passed.append(token)
            await asyncio.sleep(0.02)


async def outage_seen(api: Api, workload: Workload) -> None:
    """Returns once the workload has tried a few requests since the part went down
    (or has nothing left to do)."""
    target = api.tally.requests + OUTAGE_TRIES
    await eventually(
        lambda: api.tally.requests >= target or not workload.busy,
        timeout=60,
        message="the workload stopped trying during the outage",
    )


async def strike_and_recover(fault: Fault, stack: Stack, api: Api, workload: Workload) -> float:
    """Seconds from the part going down until every process is ready again."""
    started = time.monotonic()
    await fault.strike(stack, functools.partial(outage_seen, api, workload))
    await stack.ready(timeout=90)
    return time.monotonic() - started


async def test_no_write_event_or_notification_is_lost_or_doubled_through_faults(
    stack: Stack, fault_table: list[Row]
) -> None:
    await stack.start_platform(UNTHROTTLED)
    api = Api(stack.url("gateway"))
    ledger = Ledger()
    workload = Workload(api, stack.url("gateway").replace("http://", "ws://") + "/ws", ledger)
    try:
        for n, fault in enumerate(FAULTS):
            api.tally = Tally()
            recovery: list[float] = []

            passed: list[str] = []

            async def break_things(
                fault: Fault = fault, recovery: list[float] = recovery, passed: list[str] = passed
            ) -> None:
                guard = asyncio.create_task(guard_revocations(api, ledger, passed))
                try:
                    recovery.append(await strike_and_recover(fault, stack, api, workload))
                finally:
                    guard.cancel()

            await workload.round(str(n), break_things)
            findings = await settle(stack, ledger, workload)
            revoked = not passed and await revoked_tokens_stay_revoked(api, ledger)
            fault_table.append(Row(fault.name, recovery[0], api.tally, findings, revoked))
    finally:
        await workload.stop()
        await api.aclose()

    failed = [f"{row.fault}: {detail}" for row in fault_table for detail in row.details()]
    assert not failed, "\n".join(failed[:50])
