"""Reads and writes: a list read, an item write and reservation contention, with and without RLS.

What: through the gateway, three workloads: ``GET`` of a list with 100 items as
its owner (wrk); ``POST`` of an item (wrk, rotating over fresh lists so that
no list reaches its 500-item cap); and reservation contention, 50 viewers on
10 items of quantity 1, each reserving a random item and cancelling its
reservation (``DELETE .../reservations/mine``) at once when it got it, so the
items stay contended (asyncio httpx clients in the bench process). Each
reports req/s and p99, each with PostgreSQL's row-level security on, as it
always runs, and off.

How: row-level security is turned off for the "without" runs with ``NO FORCE``
and ``DISABLE ROW LEVEL SECURITY`` on wishlists, items, shares and
reservations through the superuser connection, and turned back on (``ENABLE``
and ``FORCE``) right after, in a ``finally``. With and without alternate run by
run (which one goes first swaps every repeat, so drift hits both alike), and
the cost of RLS is the ratio of the two, pair by pair. Writes cause events
(the notifier fans each reservation out to the 49 other viewers); every run
starts only once the previous one's events are relayed and consumed, so no
run pays for another's backlog.

Why: SECURITY.md and the issue on row-level security promise its cost is
measured here: the policies add subqueries to every statement on those
tables, and this says what that costs on the paths users hit most.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import asyncpg
import httpx
from harness import (
    API,
    Bench,
    Figure,
    Person,
    Result,
    Spread,
    WrkRun,
    lua_string,
    parse_wrk,
    scenario,
    wrk,
    wrk_binary,
)
from matplotlib.figure import Figure as Chart

READ_ITEMS = 100
CONNECTIONS = 16
ITEMS_PER_LIST_CAP = 500
CONTENDED_ITEMS = 10
PROTECTED = ("wishlists", "items", "shares", "reservations")
ITEM_BODY = json.dumps({"title": "bench gift", "price": "19.99", "currency": "EUR"})


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99_ms: float
    errors: int


async def set_rls(admin_url: str, on: bool) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        async with connection.transaction():
            for table in PROTECTED:
                if on:
                    await connection.execute(
                        f"ALTER TABLE wishlists.{table} ENABLE ROW LEVEL SECURITY"
                    )
                    await connection.execute(
                        f"ALTER TABLE wishlists.{table} FORCE ROW LEVEL SECURITY"
                    )
                else:
                    await connection.execute(
                        f"ALTER TABLE wishlists.{table} NO FORCE ROW LEVEL SECURITY"
                    )
                    await connection.execute(
                        f"ALTER TABLE wishlists.{table} DISABLE ROW LEVEL SECURITY"
                    )
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def rls(admin_url: str, on: bool) -> AsyncIterator[None]:
    """RLS as asked for the body of the ``with``, and on again afterwards whatever happens."""
    if not on:
        await set_rls(admin_url, on=False)
    try:
        yield
    finally:
        if not on:
            await set_rls(admin_url, on=True)


async def wrk_posts(
    bench: Bench, paths: list[str], who: Person, seconds: int, connections: int
) -> WrkRun:
    """wrk POSTing an item, each request to the next of ``paths`` in turn.

    The harness's ``wrk`` has one URL; a list takes 500 items at most, so the
    writes are spread over as many lists as one run could fill.
    """
    table = ", ".join(lua_string(p) for p in paths)
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {lua_string(ITEM_BODY)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {who.token}"\n'
        f"local paths = {{{table}}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  return wrk.format(nil, paths[(n % #paths) + 1])\n"
        "end\n"
    )
    handle, path = tempfile.mkstemp(prefix="wrk-posts-", suffix=".lua")
    try:
        os.write(handle, script.encode())
    finally:
        os.close(handle)
    assert bench.gateway.startswith("http://127.0.0.1"), "benchmarks stay on loopback"
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        path,
        bench.gateway,
    ]
    try:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output, _ = await process.communicate()
    finally:
        os.unlink(path)
    text = output.decode()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{text}")
    return parse_wrk(text)


async def settled(bench: Bench, admin_url: str, timeout: float = 60) -> float:
    """Waits until every event written so far is relayed and consumed; returns how long."""
    started = time.monotonic()
    prefix = bench.stack.namespace.queue_prefix
    connection = await aio_pika.connect(bench.stack.servers.rabbitmq_url)
    database = await asyncpg.connect(admin_url)
    try:
        channel = await connection.channel()
        while time.monotonic() - started < timeout:
            pending = await database.fetchval(
                "SELECT count(*) FROM wishlists.outbox WHERE state = 'pending'"
            )
            waiting = 0
            for purpose in ("item_added", "item_reserved"):
                queue = await channel.declare_queue(f"{prefix}notifier.{purpose}", passive=True)
                waiting += queue.declaration_result.message_count or 0
            if pending == 0 and waiting == 0:
                break
            await asyncio.sleep(0.1)
        # Deliveries taken but not yet acknowledged (prefetch 10) are not in
        # the count above; they are done well within this.
        await asyncio.sleep(0.3)
    finally:
        await database.close()
        await connection.close()
    return time.monotonic() - started


async def contend(
    bench: Bench, wishlist: str, items: list[str], viewers: list[Person], seconds: int
) -> tuple[Load, Counter[int]]:
    """Every viewer reserves a random item and, when it got it, cancels, until time is up."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=len(viewers), max_keepalive_connections=len(viewers))
    async with httpx.AsyncClient(base_url=bench.gateway, timeout=30, limits=limits) as client:

        async def timed(method: str, path: str, who: Person, body: object = None) -> int:
            started = time.perf_counter()
            response = await client.request(method, API + path, json=body, headers=who.headers)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
            return response.status_code

        async def viewer(who: Person, deadline: float) -> None:
            chooser = random.Random(who.id)
            while time.monotonic() < deadline:
                item = chooser.choice(items)
                base = f"/wishlists/{wishlist}/items/{item}/reservations"
                if await timed("POST", base, who, {"quantity": 1}) == 201:
                    await timed("DELETE", f"{base}/mine", who)

        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(viewer(v, deadline) for v in viewers))
        elapsed = time.monotonic() - started
    errors = sum(n for status, n in statuses.items() if status not in (201, 204, 409))
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else 0.0
    return Load(len(latencies) / elapsed, p99, errors), statuses


@scenario("reads-writes", "Reads and writes")
async def reads_writes(bench: Bench) -> Result:
    admin_url = bench.stack.database.admin_url
    seconds = 1 if bench.quick else 3
    clients = 4 if bench.quick else 50
    owner = await bench.person("Owner")

    read_list = await bench.call("POST", "/wishlists", owner, {"title": "Read"})
    for start in range(0, READ_ITEMS, 10):
        await asyncio.gather(
            *(
                bench.call(
                    "POST", f"/wishlists/{read_list['id']}/items", owner, {"title": f"gift {n}"}
                )
                for n in range(start, start + 10)
            )
        )

    contended = await bench.call("POST", "/wishlists", owner, {"title": "Contended"})
    items = [
        (
            await bench.call(
                "POST", f"/wishlists/{contended['id']}/items", owner, {"title": f"hot {n}"}
            )
        )["id"]
        for n in range(CONTENDED_ITEMS)
    ]
    link = await bench.call("POST", f"/wishlists/{contended['id']}/link", owner)
    # Registering is two Argon2id hashes each: in small groups, or the
    # requests only queue for auth's hashing slots and time out.
    viewers: list[Person] = []
    for start in range(0, clients, 8):
        viewers += await asyncio.gather(
            *(bench.person(f"Viewer{n}") for n in range(start, min(start + 8, clients)))
        )
    for who in viewers:
        await bench.call("POST", f"/shared/{link['token']}/join", who)

    async def read(_: bool) -> Load:
        run = await wrk(
            f"{bench.gateway}{API}/wishlists/{read_list['id']}",
            seconds=seconds,
            connections=CONNECTIONS,
            headers=owner.headers,
        )
        return Load(run.requests_per_second, run.latency_ms[99], run.errors)

    async def write(_: bool) -> Load:
        # Room for far more items than one run could add at any plausible rate.
        lists = 20 if not bench.quick else 4
        ids = [
            (await bench.call("POST", "/wishlists", owner, {"title": f"Write {n}"}))["id"]
            for n in range(lists)
        ]
        try:
            run = await wrk_posts(
                bench, [f"{API}/wishlists/{i}/items" for i in ids], owner, seconds, CONNECTIONS
            )
        finally:
            # Each run starts on tables of the same size.
            for i in ids:
                await bench.call("DELETE", f"/wishlists/{i}", owner)
        written = run.requests_per_second * seconds
        assert written < lists * ITEMS_PER_LIST_CAP * 0.9, "the write lists filled up"
        return Load(run.requests_per_second, run.latency_ms[99], run.errors)

    statuses: dict[bool, Counter[int]] = {True: Counter(), False: Counter()}

    async def reserve(on: bool) -> Load:
        load, counted = await contend(bench, contended["id"], items, viewers, seconds)
        statuses[on].update(counted)
        return load

    workloads: dict[str, Callable[[bool], Awaitable[Load]]] = {
        "read": read,
        "write": write,
        "reserve": reserve,
    }
    loads: dict[tuple[str, bool], list[Load]] = {
        (w, on): [] for w in workloads for on in (True, False)
    }
    drains: list[float] = []
    # No warm-up runs: creating the lists, items and viewers above went through
    # every path already (connection pools, the JWKS caches, the plans).
    await settled(bench, admin_url)
    for run in range(bench.repeats):
        for name, measure in workloads.items():
            for on in (True, False) if run % 2 == 0 else (False, True):
                async with rls(admin_url, on):
                    load = await measure(on)
                if name != "read":
                    drains.append(await settled(bench, admin_url))
                loads[(name, on)].append(load)

    errors = {key: sum(load.errors for load in runs) for key, runs in loads.items()}
    for (name, on), count in errors.items():
        if name != "reserve":
            assert count == 0, f"{name} ({'with' if on else 'without'} RLS): {count} errors"

    def spread(name: str, on: bool, pick: Callable[[Load], float]) -> Spread:
        return Spread.of([pick(load) for load in loads[(name, on)]])

    def ratio(name: str) -> Spread:
        return Spread.of(
            [
                a.requests_per_second / b.requests_per_second
                for a, b in zip(loads[(name, True)], loads[(name, False)], strict=True)
            ]
        )

    labels = {
        "read": f"GET list of {READ_ITEMS} items",
        "write": "POST item",
        "reserve": f"reserve/cancel, {clients} viewers on {CONTENDED_ITEMS} items",
    }
    figures: list[Figure] = []
    for name, label in labels.items():
        figures += [
            Figure(f"{label}, with RLS", spread(name, True, rps), "req/s", digits=0),
            Figure(f"{label}, without RLS", spread(name, False, rps), "req/s", digits=0),
            Figure(f"{label}, with RLS, p99", spread(name, True, p99), "ms", digits=1),
            Figure(f"{label}, without RLS, p99", spread(name, False, p99), "ms", digits=1),
            Figure(f"{label}: throughput with RLS", ratio(name), "x without", digits=2),
        ]
    server_errors = sum(
        n for on in (True, False) for status, n in statuses[on].items() if status >= 500
    )
    figures.append(
        Figure(
            "reservation 5xx answers",
            Spread.of([server_errors]),
            "",
            target="0",
            met=server_errors == 0,
            digits=0,
        )
    )
    total = statuses[True] + statuses[False]
    mix = ", ".join(f"{status}: {total[status]}" for status in sorted(total))
    costs = {name: 1 - ratio(name).median for name in workloads}
    findings = (
        "Cost of row-level security in throughput (1 - with/without, medians): "
        + ", ".join(f"{labels[n]} {100 * c:.0f}%" for n, c in costs.items())
        + f". Reservation answers over all runs: {mix}. Events of the writes took up to"
        f" {max(drains):.1f} s after a run to be relayed and consumed (the notifier's"
        f" fan-out of each reservation to {clients - 1} viewers), waited out before the"
        " next run."
    )
    straddling = [labels[n] for n in workloads if ratio(n).low <= 1 <= ratio(n).high]
    if straddling:
        # A ratio whose runs fall on both sides of 1 says nothing about the
        # sign of the cost: the noise between runs is larger than it.
        findings += (
            " For " + "; ".join(straddling) + ", the pairwise ratios fall on both sides of"
            " 1: the cost of RLS there is smaller than this machine's run-to-run noise"
            " (anything else running on its 2 cores shows in the ranges), so this run"
            " cannot tell it from zero; more repeats or longer runs on a quiet machine"
            " would."
        )
    plots = [] if bench.quick else [plot(bench, labels, loads)]
    return Result(
        "reads-writes",
        "Reads and writes",
        f"Through the gateway, {seconds} s per run, {bench.repeats} runs each with and"
        " without row-level security, alternating (order swapped every repeat): `GET"
        f" {API}/wishlists/{{id}}` of a list with {READ_ITEMS} items as its owner and `POST"
        f" {API}/wishlists/{{id}}/items` (spread over fresh lists, deleted after each run) with"
        f" wrk (one thread, {CONNECTIONS} connections); and {clients} viewers (asyncio httpx"
        f" clients in the bench process, one connection each) each reserving a random one of"
        f" {CONTENDED_ITEMS} items of quantity 1 and cancelling at once when they got it."
        " RLS is switched off with `NO FORCE` and `DISABLE ROW LEVEL SECURITY` on wishlists,"
        " items, shares and reservations, and back on after each run; p99 is over every"
        " request of a run. Each write run starts once the previous run's events are"
        " relayed and consumed.",
        figures,
        plots,
        findings=findings,
    )


def plot(bench: Bench, labels: dict[str, str], loads: dict[tuple[str, bool], list[Load]]) -> Path:
    """Throughput with and without RLS per workload, bars at the median, whiskers the range."""
    path = bench.plots / "reads-writes.png"
    chart = Chart(figsize=(7, 3.5))
    axes = chart.subplots()
    width = 0.38
    for offset, on in ((-width / 2, True), (width / 2, False)):
        spreads = [Spread.of([rps(x) for x in loads[(name, on)]]) for name in labels]
        axes.bar(
            [n + offset for n in range(len(labels))],
            [s.median for s in spreads],
            width,
            yerr=[
                [s.median - s.low for s in spreads],
                [s.high - s.median for s in spreads],
            ],
            capsize=3,
            label="with RLS" if on else "without RLS",
        )
    axes.set_xticks(range(len(labels)), [label.split(",")[0] for label in labels.values()])
    axes.set_ylabel("req/s through the gateway")
    axes.set_title("Row-level security: throughput with and without")
    axes.legend()
    chart.tight_layout()
    chart.savefig(path, dpi=100)
    return path


def rps(load: Load) -> float:
    return load.requests_per_second


def p99(load: Load) -> float:
    return load.p99_ms
