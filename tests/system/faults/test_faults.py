"""The fault suite: the platform keeps every promise while its parts fail, one at a time.

The whole platform runs as real processes on servers of the suite's own (a
throwaway PostgreSQL cluster, a second RabbitMQ node, a Redis:
:mod:`wishlist_shared.testing.private_servers`), so that stopping and killing
them disturbs no other test. For each fault, a round of the workload (people
registering, sharing lists, adding items, racing for the last unit, deleting
reserved items) runs, and midway the fault strikes: a server is restarted or
SIGKILLed, one service's database role is locked out for a while, or a
process is SIGKILLed (at a random moment, or once it holds requests). Once
everything says it is ready again, the invariants are checked over
everything done so far: every write answered 2xx is in the database; every
notification the SPEC asks for exists exactly once and reached its
recipient's socket exactly once (sockets stay open through all faults and
resume with ``after=``); no item is reserved beyond its quantity; no answer
is a 5xx other than a 503 with ``Retry-After``, nor is a WebSocket upgrade;
a token logged out before the fault stays dead after it; every outbox is
published, and no dead letter, unrouted event or unconsumed message is left.

``FAULTS=redis,gateway`` runs only the faults whose names contain one of
those words (selecting none is an error); ``FAULT_ROUNDS`` (1; ``make
faults``: 3) repeats every fault; ``FAULT_DB_OUTAGE_SECONDS`` (15; ``make
faults``: 60) is how long a database role stays locked out. The table of
faults x outcomes is printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fault_invariants import (
    Findings,
    check_notifications,
    check_outboxes,
    check_queues,
    check_writes,
    read_notifications,
)
from fault_report import Row
from fault_workload import Api, Ledger, Person, Tally, Workload

from wishlist_shared.db.engine import role_name
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.private_servers import PrivateServers
from wishlist_shared.testing.stack import UNTHROTTLED, Stack

SETTLE_SECONDS = 60.0
"""How long notifications may take to arrive once everything is ready again."""
OUTAGE_TRIES = 6
"""Requests the workload tries while a part is down, before it comes back."""
ROUNDS = int(os.environ.get("FAULT_ROUNDS", "1"))
DB_OUTAGE_SECONDS = float(os.environ.get("FAULT_DB_OUTAGE_SECONDS", "15"))
IN_FLIGHT_WAIT = 30.0
"""Seconds a process may take to be seen holding a request, before the kill is called off."""


@dataclass
class Strike:
    """What a fault needs to strike, and what it reports."""

    stack: Stack
    private: PrivateServers
    workload: Workload
    outage_seen: Callable[[], Awaitable[None]]
    in_flight_at_kill: int | None = None


@dataclass(frozen=True)
class Fault:
    name: str
    how: Callable[[Strike], Awaitable[None]]
    slow_seconds: float = 0.0
    """How much longer than a plain round it keeps things broken."""


def server_restarted(server: str) -> Callable[[Strike], Awaitable[None]]:
    async def strike(s: Strike) -> None:
        await s.private.server(server).stop()
        await s.outage_seen()
        await s.private.server(server).start()

    return strike


def server_killed(server: str) -> Callable[[Strike], Awaitable[None]]:
    async def strike(s: Strike) -> None:
        await s.private.server(server).kill()
        await s.outage_seen()
        await s.private.server(server).start()

    return strike


def process_killed(process: str) -> Callable[[Strike], Awaitable[None]]:
    async def strike(s: Strike) -> None:
        s.stack.crash(process)
        await s.outage_seen()
        await s.stack.start_again(process)

    return strike


IN_PROGRESS = re.compile(r'^http_requests_in_progress\{service="[^"]+"\} (\S+)$', re.M)


def process_killed_in_flight(process: str) -> Callable[[Strike], Awaitable[None]]:
    """People read from ``process`` back to back; once its gauge shows requests
    under way, SIGKILL. The table's "cut off" says whether the kill met them."""

    async def strike(s: Strike) -> None:
        readers = asyncio.create_task(s.workload.browse(process))
        try:
            s.in_flight_at_kill = await kill_once_busy(s.stack, process)
            await s.outage_seen()
            await s.stack.start_again(process)
        finally:
            readers.cancel()
            await asyncio.gather(readers, return_exceptions=True)

    return strike


async def kill_once_busy(stack: Stack, process: str) -> int:
    """SIGKILLs ``process`` the moment its ``/metrics`` shows a request in flight."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT
    async with httpx.AsyncClient(base_url=stack.url(process), timeout=5) as client:
        while time.monotonic() < deadline:
            found = IN_PROGRESS.search((await client.get("/metrics")).text)
            held = int(float(found.group(1))) if found else 0
            if held:
                stack.crash(process)
                return held
    raise AssertionError(f"{process} held no request for {IN_FLIGHT_WAIT} s")


def database_locked_out(service: str) -> Callable[[Strike], Awaitable[None]]:
    """The service's own role may not log in and its sessions are ended, for
    ``DB_OUTAGE_SECONDS``: its database is away while the rest goes on."""
    role = role_name(service)

    async def strike(s: Strike) -> None:
        admin = await asyncpg.connect(s.private.servers.postgres_admin_url)
        try:
            await admin.execute(f'ALTER ROLE "{role}" NOLOGIN')
            # Twice: a session that was past authentication but not yet
            # listed the first time is ended the second.
            for _ in range(2):
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                    role,
                )
                await asyncio.sleep(0.5)
            await asyncio.sleep(DB_OUTAGE_SECONDS)
        finally:
            await admin.execute(f'ALTER ROLE "{role}" LOGIN')
            await admin.close()

    return strike


ALL_FAULTS = (
    Fault("RabbitMQ restarted", server_restarted("rabbitmq")),
    Fault("RabbitMQ VM killed (SIGKILL)", server_killed("rabbitmq")),
    Fault("Redis restarted (empty)", server_restarted("redis")),
    Fault("Redis killed (SIGKILL)", server_killed("redis")),
    Fault("PostgreSQL restarted", server_restarted("postgresql")),
    Fault("PostgreSQL killed (SIGKILL, WAL recovery)", server_killed("postgresql")),
    *(
        Fault(f"{s} database locked out", database_locked_out(s), DB_OUTAGE_SECONDS)
        for s in ("auth", "wishlists", "notifier")
    ),
    *(
        Fault(f"{p} killed (SIGKILL)", process_killed(p))
        for p in ("auth", "wishlists", "notifier", "gateway")
    ),
    *(
        Fault(f"{p} killed mid-request (SIGKILL)", process_killed_in_flight(p))
        for p in ("auth", "wishlists", "notifier", "gateway")
    ),
)


def selected(faults: tuple[Fault, ...], words: str | None) -> tuple[Fault, ...]:
    """``FAULTS=redis,gateway``: the faults whose names hold one of the words."""
    if not words:
        return faults
    wanted = [w.strip().lower() for w in words.split(",") if w.strip()]
    chosen = tuple(f for f in faults if any(w in f.name.lower() for w in wanted))
    if not chosen:
        names = "\n  ".join(f.name for f in faults)
        raise pytest.UsageError(f"FAULTS={words!r} selects none of:\n  {names}")
    return chosen


FAULTS = selected(ALL_FAULTS, os.environ.get("FAULTS"))
if ROUNDS < 1:
    raise pytest.UsageError(f"FAULT_ROUNDS={ROUNDS}: at least one round")

pytestmark = [
    pytest.mark.system,
    # A plain round takes about ten seconds; each may wait out a part that is slow to return.
    pytest.mark.timeout(300 + ROUNDS * sum(120 + f.slow_seconds for f in FAULTS)),
]


async def settle(
    stack: Stack, private: PrivateServers, ledger: Ledger, workload: Workload
) -> Findings:
    """Findings once everything has arrived and drained, or after ``SETTLE_SECONDS``."""

    async def findings(*, queues: bool = True) -> Findings:
        db = await asyncpg.connect(stack.database.admin_url)
        try:
            found = await read_notifications(db, ledger)
            result = check_notifications(ledger, found, workload.inboxes)
            await check_writes(db, ledger, result)
            await check_outboxes(db, result)
        finally:
            await db.close()
        if queues:
            # rabbitmqctl starts an Erlang VM: asked only once the rest is settled.
            check_queues(
                await private.queue_depths(),
                stack.namespace.queue_prefix,
                stack.namespace.exchange,
                result,
            )
        return result

    async def complete() -> Findings:
        # What time can still mend; a dead letter or a lost write it cannot.
        result = await findings(queues=False)
        assert not result.missing_notifications, result.missing_notifications
        assert not result.socket_gaps, result.socket_gaps
        assert not result.outbox_left, result.outbox_left
        result = await findings()
        assert not result.backlog, result.backlog
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


@contextlib.asynccontextmanager
async def guarded(api: Api, ledger: Ledger) -> AsyncIterator[list[str]]:
    passed: list[str] = []
    guard = asyncio.create_task(guard_revocations(api, ledger, passed))
    try:
        yield passed
    finally:
        guard.cancel()
        await asyncio.gather(guard, return_exceptions=True)


PLATFORM = {
    **UNTHROTTLED,
    # The sockets opened in the first round stay open to the end with the
    # token they opened with, and the gateway closes a socket whose token
    # expires (4401), which the suite counts as a failure: a run of several
    # rounds outlasts the default 15 minutes.
    "auth": {**UNTHROTTLED["auth"], "AUTH_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)},
}


async def test_no_write_event_or_notification_is_lost_or_doubled_through_faults(
    fault_stack: Stack, private_servers: PrivateServers, fault_table: list[Row]
) -> None:
    stack = fault_stack
    await stack.start_platform(PLATFORM)
    api = Api(stack.url("gateway"))
    ledger = Ledger()
    workload = Workload(api, stack.url("gateway").replace("http://", "ws://") + "/ws", ledger)
    try:
        for n, (round_, fault) in enumerate((r, f) for r in range(1, ROUNDS + 1) for f in FAULTS):
            api.tally = Tally()
            strike = Strike(
                stack, private_servers, workload, functools.partial(outage_seen, api, workload)
            )
            recovery: list[float] = []
            passed: list[str] = []

            async def break_things(
                fault: Fault = fault,
                strike: Strike = strike,
                recovery: list[float] = recovery,
                passed: list[str] = passed,
            ) -> None:
                async with guarded(api, ledger) as seen:
                    started = time.monotonic()
                    await fault.how(strike)
                    await stack.ready(timeout=90)
                    recovery.append(time.monotonic() - started)
                passed += seen

            await workload.round(str(n), break_things)
            findings = await settle(stack, private_servers, ledger, workload)
            revoked = not passed and await revoked_tokens_stay_revoked(api, ledger)
            fault_table.append(
                Row(
                    round_,
                    fault.name,
                    recovery[0],
                    api.tally,
                    findings,
                    revoked,
                    strike.in_flight_at_kill,
                )
            )
    finally:
        await workload.stop()
        await api.aclose()

    failed = [
        f"round {row.round}, {row.fault}: {detail}"
        for row in fault_table
        for detail in row.details()
    ]
    assert not failed, "\n".join(failed[:50])
