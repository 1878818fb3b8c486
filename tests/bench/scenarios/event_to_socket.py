"""Event to socket: from a reservation's 201 to the ``item_reserved`` push on a viewer's socket.

What: reservations are made through the gateway at 10, 100 and 500 per
second offered, open-loop (each is started on its schedule, whether or not
the ones before it have answered), each on a fresh item, so none is refused
with 409. For each, the time from its 201 to the moment another viewer of
the list reads the ``item_reserved`` notification on their socket: p50, p95
and p99 per rate, how many arrived, and the rate achieved.

The path: wishlists' transaction writes the event to its outbox; its relay
publishes it to RabbitMQ; the notifier consumes it and, in one transaction,
writes the notification and its push to its own outbox; the notifier's push
relay publishes to Redis; the gateway's hub hands it to the socket. Times are
split with the rows' timestamps (all processes read the same wall clock):
the event's ``occurred_at`` (in wishlists' transaction), wishlists' outbox
``published_at`` (when its relay took the batch), the notification's
``created_at`` (when the notifier's transaction began) and the push's
``published_at`` (when the push relay took the batch), then the arrival.
Not split: RabbitMQ's share from the notifier's consumer (both fall between
the relay taking the event and the notifier's transaction starting), and
Redis from the gateway (both after the push relay took the push). Commits are
not timestamped: each "took the batch" includes its own transaction's work.

How: 16 lists, each of a different owner with its own listening viewer, so
the notifier's per-user locks are not all one lock; owners and listeners are
minted users (:mod:`realtime`), inserted into wishlists' ``users`` and
``shares``; items are inserted in bulk by the superuser. The reserver is a
real account (registration, login) and reserves through the gateway with
HTTP, from this process; the sockets are held by a separate client process.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from harness import API, Bench, Figure, Person, Result, Spread, scenario
from matplotlib.figure import Figure as Chart
from realtime import Seeder, SocketClients, mint_tokens, percentile

RATES = (10, 100, 500)
TARGET_RATE = 100
TARGET_P99_MS = 50.0
DRAIN_SECONDS = 15.0
"""How long after the last 201 the pushes may still arrive."""
ANSWER_SECONDS = 15.0
"""How long after the last reservation was sent the answers may still come."""


def _seconds(bench: Bench, rate: int) -> float:
    if bench.quick:
        return 0.2 if rate >= 500 else 0.5
    # 50 samples at 10/s. Neither 100/s nor 500/s is sustained on this
    # machine: a few hundred reservations already make a backlog of seconds.
    return {10: 5.0, 100: 3.0}.get(rate, 0.6)


@dataclass
class Run:
    offered: int
    ok: int = 0
    failed: int = 0
    achieved: float = 0.0
    latencies: list[float] = field(default_factory=list)
    segments: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Pool:
    """Items not reserved yet: (wishlist id, item id), one per reservation to come."""

    items: list[tuple[str, str]]
    next: int = 0

    def take(self, count: int) -> list[tuple[str, str]]:
        taken = self.items[self.next : self.next + count]
        assert len(taken) == count, "the pool of fresh items ran out"
        self.next += count
        return taken


@scenario("event-to-socket", "Event to socket")
async def event_to_socket(bench: Bench) -> Result:
    lists = 2 if bench.quick else 16
    needed = bench.repeats * sum(math.ceil(r * _seconds(bench, r)) for r in RATES)
    reserver = await bench.person("Reserver")
    minted = await mint_tokens(bench.stack, 2 * lists)
    owners = [Person(u, f"seed-{u}@example.com", t) for u, t in minted[:lists]]
    listeners = minted[lists:]
    seeder = await Seeder.open(bench.stack)
    items: list[list[tuple[str, str]]] = []
    try:
        await seeder.users([u for u, _ in minted], "Seeded")
        await seeder.users([reserver.id], "Reserver")
        per_list = math.ceil(needed / lists) + 10
        for owner, (listener, _) in zip(owners, listeners, strict=True):
            wishlist = await bench.call("POST", "/wishlists", owner, {"title": "Busy"})
            await seeder.shares(wishlist["id"], owner.id, [reserver.id, listener])
            ids = await seeder.items(wishlist["id"], owner.id, per_list, quantity=99)
            items.append([(wishlist["id"], i) for i in ids])
    finally:
        await seeder.close()
    # Interleaved across the lists: consecutive reservations go to different owners.
    pool = Pool([by_list[n] for n in range(per_list) for by_list in items])
    clients = await SocketClients.start(bench.gateway, [t for _, t in listeners])
    assert clients.failed == 0, "a listener's socket failed to open"
    limits = httpx.Limits(max_connections=4000, max_keepalive_connections=4000)
    runs: dict[int, list[Run]] = {rate: [] for rate in RATES}
    try:
        async with httpx.AsyncClient(base_url=bench.gateway, timeout=60, limits=limits) as http:
            for _ in range(bench.repeats):
                for rate in RATES:
                    runs[rate].append(await _run(bench, http, clients, reserver, pool, rate=rate))
    finally:
        await clients.close()
    return _result(bench, runs, lists)


async def _run(
    bench: Bench,
    http: httpx.AsyncClient,
    clients: SocketClients,
    reserver: Person,
    pool: Pool,
    *,
    rate: int,
) -> Run:
    count = math.ceil(rate * _seconds(bench, rate))
    chosen = pool.take(count)
    done: dict[str, float] = {}
    failed = 0
    first_arrival = len(clients.arrivals)

    async def reserve(wishlist_id: str, item_id: str) -> None:
        nonlocal failed
        try:
            response = await http.post(
                f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations",
                json={"quantity": 1},
                headers=reserver.headers,
            )
        except httpx.HTTPError:
            failed += 1
            return
        if response.status_code == 201:
            done[item_id] = time.time()
        else:
            failed += 1

    started = time.time()
    origin = time.monotonic()
    tasks = []
    for n, (wishlist_id, item_id) in enumerate(chosen):
        # Open loop: on schedule, however many are still waiting for an answer.
        delay = origin + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(reserve(wishlist_id, item_id)))
    # Bounded: what has not answered by then counts as failed, not as a wait.
    _, late = await asyncio.wait(tasks, timeout=ANSWER_SECONDS)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    failed += len(late)
    finished = max(done.values(), default=time.time())
    await clients.wait_for(first_arrival + len(done), DRAIN_SECONDS)
    await _settle(bench)
    arrivals = {
        a.item_id: a
        for a in clients.arrivals[first_arrival:]
        if a.kind == "item_reserved" and a.item_id is not None and a.item_id in done
    }
    run = Run(count, len(done), failed, len(done) / max(1e-9, finished - started))
    run.latencies = [(a.at - done[item]) * 1000 for item, a in arrivals.items()]
    timed = {a.notification_id: (a.at, done[item]) for item, a in arrivals.items()}
    run.segments = await _segments(bench, timed)
    return run


async def _settle(bench: Bench) -> None:
    """Waits (at most 15 s) until both outboxes are empty: no run starts on another's backlog."""
    connection = await asyncpg.connect(bench.stack.database.admin_url)
    try:
        for _ in range(150):
            pending = await connection.fetchval(
                """
                SELECT (SELECT count(*) FROM wishlists.outbox WHERE state = 'pending')
                     + (SELECT count(*) FROM notifier.outbox WHERE state = 'pending')
                """
            )
            if pending == 0:
                return
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


SEGMENTS = {
    "occurred_at to 201": "the rest of the request: commit, answer through the gateway",
    "201 to notification transaction": "outbox relay, RabbitMQ, notifier consumer",
    "notification transaction to socket": "notifier commit, push relay, Redis, gateway",
    "occurred_at to wishlists relay": "wishlists commit, relay woken, takes the batch",
    "wishlists relay to notification transaction": "publish, RabbitMQ, notifier consumer",
    "notification transaction to push relay": "notifier transaction and commit, relay woken",
    "push relay to socket": "publish to Redis, gateway hub, socket write, client read",
}


async def _segments(
    bench: Bench, arrived: dict[str, tuple[float, float]]
) -> dict[str, list[float]]:
    """Per notification, the milliseconds of each part of the path, from the rows' timestamps."""
    segments: dict[str, list[float]] = {name: [] for name in SEGMENTS}
    if not arrived:
        return segments
    connection = await asyncpg.connect(bench.stack.database.admin_url)
    try:
        rows = await connection.fetch(
            """
            SELECT n.id::text AS id,
                   extract(epoch FROM (w.body ->> 'occurred_at')::timestamptz) AS occurred,
                   extract(epoch FROM w.published_at) AS relayed,
                   extract(epoch FROM n.created_at) AS created,
                   extract(epoch FROM p.published_at) AS pushed
            FROM notifier.notifications n
            JOIN wishlists.outbox w ON w.event_id = n.event_id
            JOIN notifier.outbox p ON p.event_id = n.id
            WHERE n.id = ANY($1::uuid[])
            """,
            list(arrived),
        )
    finally:
        await connection.close()
    for row in rows:
        at, answered = arrived[row["id"]]
        occurred, created = float(row["occurred"]), float(row["created"])
        parts = {
            "occurred_at to 201": answered - occurred,
            "201 to notification transaction": created - answered,
            "notification transaction to socket": at - created,
        }
        if row["relayed"] is not None and row["pushed"] is not None:
            relayed, pushed = float(row["relayed"]), float(row["pushed"])
            parts |= {
                "occurred_at to wishlists relay": relayed - occurred,
                "wishlists relay to notification transaction": created - relayed,
                "notification transaction to push relay": pushed - created,
                "push relay to socket": at - pushed,
            }
        for name, seconds in parts.items():
            segments[name].append(seconds * 1000)
    return segments


def _result(bench: Bench, runs: dict[int, list[Run]], lists: int) -> Result:
    figures: list[Figure] = []
    summary: list[str] = []
    for rate in RATES:
        done = runs[rate]
        tails = {p: Spread.of([_pct(r.latencies, p) for r in done]) for p in (50, 95, 99)}
        arrived = Spread.of([100 * len(r.latencies) / max(1, r.ok) for r in done])
        achieved = Spread.of([r.achieved for r in done])
        failed = sum(r.failed for r in done)
        at_target = rate == TARGET_RATE
        p99 = tails[99]
        figures += [
            Figure(
                f"{rate}/s: achieved",
                achieved,
                "reservations/s",
                digits=0,
                note=f"{done[0].offered} offered per run; {failed} failed in all runs",
            ),
            Figure(f"{rate}/s: p50", tails[50], "ms"),
            Figure(f"{rate}/s: p95", tails[95], "ms"),
            Figure(
                f"{rate}/s: p99",
                p99,
                "ms",
                target=f"< {TARGET_P99_MS:.0f} ms" if at_target else "",
                met=p99.median < TARGET_P99_MS if at_target else None,
            ),
            Figure(f"{rate}/s: arrived", arrived, "%", note=f"within {DRAIN_SECONDS:.0f} s"),
        ]
        parts = ", ".join(
            f"{name} {Spread.of([_pct(r.segments[name], 50) for r in done]).median:.1f} ms"
            for name in SEGMENTS
        )
        early = Spread.of([100 * _share_below(r.latencies, 0) for r in done])
        summary.append(
            f"At {rate}/s offered ({achieved.median:.0f}/s achieved): p50 {tails[50].median:.1f}"
            f" ms, p99 {p99.median:.1f} ms, {arrived.median:.0f}% arrived,"
            f" {early.median:.0f}% before the bench process had read the 201. Medians: {parts}."
        )
    for name in list(SEGMENTS)[1:3]:
        split = Spread.of([_pct(r.segments[name], 50) for r in runs[TARGET_RATE]])
        figures.append(Figure(f"{TARGET_RATE}/s: {name} (p50)", split, "ms", note=SEGMENTS[name]))
    worst = Spread.of([_pct(r.latencies, 99) for r in runs[TARGET_RATE]]).median
    achieved_at_target = Spread.of([r.achieved for r in runs[TARGET_RATE]]).median
    verdict = (
        f"The target (p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE}/s) is met: {worst:.1f} ms."
        if worst < TARGET_P99_MS
        else f"The target (p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE}/s) is missed by"
        f" {worst - TARGET_P99_MS:.1f} ms ({worst:.1f} ms): {TARGET_RATE}/s was not sustained"
        f" ({achieved_at_target:.0f}/s achieved), so the figure is mostly queueing."
    )
    plots: list[Path] = []
    if not bench.quick:
        plots.append(_plot(bench, runs))
    return Result(
        "event-to-socket",
        "Event to socket",
        "Reservations (quantity 1, each on a fresh item of quantity 99) through the gateway by"
        " one real account, open-loop at "
        + ", ".join(f"{r}/s for {_seconds(bench, r):g} s" for r in RATES)
        + f", from the bench process (httpx); {lists} lists, each of its own owner and with"
        " its own listening viewer holding one socket in a separate client process (owners and"
        " listeners are users with tokens minted with auth's active key, inserted as the"
        " superuser into wishlists' `users` and `shares`; the items too). Latency: the"
        " listener's read minus the reserver's 201, both wall clock on this machine; the"
        " split uses the rows' timestamps (see the module). "
        f"{bench.repeats} runs per rate, the rates in turn.",
        figures,
        plots,
        findings=verdict + " " + " ".join(summary) + " " + WHY,
    )


WHY = (
    "Where the achieved rate falls short of the offered one, the platform is saturated and"
    " the latency is queueing: the reservation requests themselves slow down (occurred_at"
    " to 201), wishlists' outbox relay falls behind (it publishes one event at a time and"
    " waits for RabbitMQ's confirm of each, in the same process and on the same cores as"
    " the requests), then the notifier (one transaction per event, under per-user advisory"
    " locks); from the notification row to the socket stays short. What would close it: a"
    " wishlists process that serves more reservations per CPU second (or more cores), a"
    " relay that publishes a batch and waits for the confirms once, and more notifier"
    " consumers; the benchmark itself shares the two cores with the platform. Under that"
    " load the 201 is read late too (the gateway and this process are busy), so some"
    " pushes arrive before it: those latencies are negative and the percentiles of the"
    " saturated rates understate the path, which the split from the rows shows better."
)


def _share_below(values: list[float], limit: float) -> float:
    return sum(1 for v in values if v < limit) / len(values) if values else 0.0


def _pct(values: list[float], p: float) -> float:
    return percentile(values, p) if values else float("nan")


def _plot(bench: Bench, runs: dict[int, list[Run]]) -> Path:
    path = bench.plots / "event-to-socket.png"
    # The object API draws with Agg and needs no display, nor pyplot's global state.
    chart = Chart(figsize=(6, 3.5))
    axes = chart.subplots()
    for rate in RATES:
        latencies = sorted(x for r in runs[rate] for x in r.latencies)
        if latencies:
            share = [(i + 1) / len(latencies) for i in range(len(latencies))]
            axes.plot(latencies, share, label=f"{rate}/s offered")
    axes.axvline(TARGET_P99_MS, color="red", linestyle="--", label="p99 target")
    # Symmetric: under load some pushes arrive before the client has read the 201.
    axes.set_xscale("symlog", linthresh=10)
    axes.set_xlabel("ms from the 201 to the socket")
    axes.set_ylabel("share of reservations")
    axes.legend()
    chart.tight_layout()
    chart.savefig(path, dpi=100)
    return path
