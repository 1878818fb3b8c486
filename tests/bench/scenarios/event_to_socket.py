"""Click to socket: from a giver's reservation request to the push read on a viewer's socket.

What: ten givers reserve on ten lists, open-loop (each request is sent on its
schedule, whether or not the ones before it have answered) at a ramp of
offered rates; each list is watched by its own viewer, whose socket is held by
a separate client process. A reservation's latency is the time from sending
the giver's request (not from its 201) until the watcher reads the
``item_reserved`` notification: what a user sees between the click and the
other screen. Each step of the ramp is a warm-up at its rate, not measured,
then the measured window; per rate: the achieved rate, p50/p99, the answers
that were not 201 by status, and the CPU milliseconds per reservation summed
over every process the work runs through (:class:`harness.CpuMeter`). From
the ramp: the offered rate at which p99 passes 50 ms (interpolated between
steps) and the rate at which the platform starts shedding (429/503).

The path: wishlists' transaction writes the event to its outbox; its relay
publishes it to RabbitMQ; the notifier consumes it and, in one transaction,
writes the notification and its push to its own outbox; the notifier's push
relay publishes to Redis; the gateway's hub hands it to the socket. Times are
split with the rows' timestamps (all processes read the same wall clock):
the event's ``occurred_at`` (in wishlists' transaction), wishlists' outbox
``published_at`` (when its relay took the batch), the notification's
``created_at`` (when the notifier's transaction began) and the push's
``published_at`` (when the push relay took the batch), then the arrival.
Commits are not timestamped: each "took the batch" includes its own
transaction's work.

How: givers, owners and viewers are minted users (:mod:`realtime`), inserted
into wishlists' ``users`` and ``shares``; items (one fresh item per
reservation, so none is refused with 409) are inserted in bulk by the
superuser. Requests go through the gateway from the load sender (:mod:`sender`:
raw HTTP/1.1 keep-alive connections, its own process), each timed from when
it was sent; how late the sender was against the schedule is reported too.
Changed on 2026-12-08: the requests used to come from an httpx client in the
bench's own event loop, which at 100/s sent them late by p99 493 ms (its CPU
taken from the platform's two cores, its lag counted as the platform's).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import sender
from harness import (
    API,
    PLATFORM,
    SERVERS,
    Bench,
    CpuMeter,
    Figure,
    Person,
    Result,
    Spread,
    scenario,
)
from matplotlib.figure import Figure as Chart
from realtime import Seeder, SocketClients, mint_tokens, percentile

RATES = (10, 20, 50, 100, 150, 200)
QUICK_RATES = (10, 50)
GIVERS = 10
LISTS = 10
P99_LIMIT_MS = 50.0
"""The latency whose crossing the ramp reports."""
TARGETS = {100: (100.0, 50.0), 200: (190.0, 100.0)}
"""Offered rate → (achieved rate at least, p99 below, ms): the issue's targets."""
SHED_SHARE = 0.005
"""Answers 429/503 above this share of a step: the platform sheds at that rate."""
DRAIN_SECONDS = 60.0
"""How long after the last answer the pushes may still arrive (then they count as lost)."""
ANSWER_SECONDS = 15.0
"""How long after it was due a request's answer may still come (then it is a timeout)."""
SENDER_CONNECTIONS = 4000
"""Enough that the load sender never holds a request back for a free connection."""
SHED = (429, 503)


def _warmup(bench: Bench) -> float:
    return 0.2 if bench.quick else 1.0


def _window(bench: Bench) -> float:
    return 0.5 if bench.quick else 5.0


def _rates(bench: Bench) -> tuple[int, ...]:
    return QUICK_RATES if bench.quick else RATES


@dataclass
class Step:
    """One rate of one ramp."""

    offered: int
    sent: int = 0
    """Measured requests (the warm-up's are not)."""
    ok: int = 0
    achieved: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Milliseconds from sending to the socket, per measured 201; inf if it never came."""
    statuses: Counter[str] = field(default_factory=Counter)
    """Every answer but 201, warm-up included: the status, "timeout" or "error"."""
    retry_after: int = 0
    """Of the 429/503 answers, those with a Retry-After header."""
    answered: int = 0
    """Requests of the whole step (warm-up included) answered with 201."""
    made: int = 0
    """Reservations of the whole step found in wishlists' table afterwards."""
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per group of processes over the whole step, until all was delivered."""
    seconds: float = 0.0
    """How long the CPU was counted."""
    idle: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per second per group just before the step, with no load from it."""
    segments: dict[str, list[float]] = field(default_factory=dict)
    lag: list[float] = field(default_factory=list)
    """Milliseconds each measured request was sent after its schedule: the bench's own lag."""

    @property
    def requests(self) -> int:
        return self.answered + sum(self.statuses.values())

    @property
    def shed(self) -> int:
        return sum(n for k, n in self.statuses.items() if k.split()[0] in {str(s) for s in SHED})

    @property
    def cpu_per_reservation(self) -> float:
        return sum(self.cpu_ms.values()) / max(1, self.made)

    @property
    def net_cpu_per_reservation(self) -> float:
        """Less what the processes spent at the idle rate measured just before: the
        servers' share of anything else running, the platform's own timers."""
        idle = sum(self.idle.values()) * self.seconds
        return (sum(self.cpu_ms.values()) - idle) / max(1, self.made)


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


@scenario("click-to-socket", "Click to socket")
async def event_to_socket(bench: Bench) -> Result:
    rates = _rates(bench)
    per_ramp = sum(math.ceil(r * (_warmup(bench) + _window(bench))) for r in rates)
    minted = await mint_tokens(bench.stack, GIVERS + 2 * LISTS)
    givers = [Person(u, f"seed-{u}@example.com", t) for u, t in minted[:GIVERS]]
    owners = [Person(u, f"seed-{u}@example.com", t) for u, t in minted[GIVERS : GIVERS + LISTS]]
    viewers = minted[GIVERS + LISTS :]
    per_list = math.ceil(bench.repeats * per_ramp / LISTS) + 10
    seeder = await Seeder.open(bench.stack)
    items: list[list[tuple[str, str]]] = []
    try:
        await seeder.users([u for u, _ in minted], "Seeded")
        for owner, (viewer, _) in zip(owners, viewers, strict=True):
            wishlist = await bench.call("POST", "/wishlists", owner, {"title": "Busy"})
            await seeder.shares(wishlist["id"], owner.id, [*(g.id for g in givers), viewer])
            ids = await seeder.items(wishlist["id"], owner.id, per_list, quantity=99)
            items.append([(wishlist["id"], i) for i in ids])
    finally:
        await seeder.close()
    # Interleaved across the lists: consecutive reservations go to different lists.
    pool = Pool([by_list[n] for n in range(per_list) for by_list in items])
    clients = await SocketClients.start(bench.gateway, [t for _, t in viewers])
    assert clients.failed == 0, "a viewer's socket failed to open"
    meter = CpuMeter(bench.stack)
    ramps: list[dict[int, Step]] = []
    try:
        for _ in range(bench.repeats):
            ramp: dict[int, Step] = {}
            for rate in rates:
                ramp[rate] = await _step(
                    bench,
                    clients=clients,
                    givers=givers,
                    pool=pool,
                    meter=meter,
                    rate=rate,
                )
                done = ramp[rate]
                dead = {n: p for n, p in bench.stack.processes.items() if not p.running}
                if dead:
                    # What follows would measure a broken platform, not a slow one.
                    raise RuntimeError(
                        f"at {rate}/s offered, {', '.join(dead)} stopped:\n"
                        + "\n".join(p.logs()[-3000:] for p in dead.values())
                    )
                print(
                    f"  {rate}/s: {done.achieved:.0f}/s achieved, p99"
                    f" {_latency(done, 99):.0f} ms, not 201: {dict(done.statuses)}",
                    flush=True,
                )
            ramps.append(ramp)
    finally:
        await clients.close()
    return _result(bench, rates, ramps)


async def _idle(meter: CpuMeter, seconds: float) -> dict[str, float]:
    """CPU milliseconds per second of each group with no load: what every step pays anyway."""
    before = await meter.read()
    await asyncio.sleep(seconds)
    after = await meter.read()
    return {k: v / (after.at - before.at) for k, v in after.since(before).items()}


async def _step(
    bench: Bench,
    *,
    clients: SocketClients,
    givers: list[Person],
    pool: Pool,
    meter: CpuMeter,
    rate: int,
) -> Step:
    warm = math.ceil(rate * _warmup(bench))
    count = math.ceil(rate * _window(bench))
    chosen = pool.take(warm + count)
    step = Step(rate, sent=count)
    step.idle = await _idle(meter, 0.3 if bench.quick else 1.0)
    sent_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    first_arrival = len(clients.arrivals)
    requests = [
        {
            "method": "POST",
            "path": f"{API}/wishlists/{wishlist_id}/items/{item_id}/reservations",
            "headers": givers[(n + n // LISTS) % GIVERS].headers,
            "json": {"quantity": 1},
        }
        for n, (wishlist_id, item_id) in enumerate(chosen)
    ]
    before = await meter.read()
    # Open loop, from the load sender's own process: each request on schedule,
    # however many are still waiting for an answer.
    outcomes = await sender.run(
        bench.gateway,
        requests,
        rate=rate,
        count=len(requests),
        connections=SENDER_CONNECTIONS,
        timeout=ANSWER_SECONDS,
    )
    for n, ((_, item_id), outcome) in enumerate(zip(chosen, outcomes, strict=True)):
        sent_at[item_id] = outcome.sent
        if n >= warm:
            step.lag.append(outcome.late_ms)
        if outcome.status == 201:
            step.answered += 1
            if n >= warm:
                answered_at[item_id] = outcome.answered
            continue
        step.statuses[_status(outcome)] += 1
        if outcome.status in SHED and outcome.retry_after:
            step.retry_after += 1
    step.statuses = +step.statuses
    step.made = await _drained(bench, clients, first_arrival, {i for _, i in chosen})
    after = await meter.read()
    step.cpu_ms = after.since(before)
    step.seconds = after.at - before.at
    arrivals = {
        a.item_id: a
        for a in clients.arrivals[first_arrival:]
        if a.kind == "item_reserved" and a.item_id in answered_at
    }
    step.ok = len(answered_at)
    # The rate of the answers themselves: from the window's first 201 to its last.
    answers = sorted(answered_at.values())
    step.achieved = (len(answers) - 1) / (answers[-1] - answers[0]) if len(answers) > 1 else 0.0
    step.latencies = [
        (arrivals[i].at - sent_at[i]) * 1000 if i in arrivals else math.inf for i in answered_at
    ]
    timed = {a.notification_id: (a.at, sent_at[i], answered_at[i]) for i, a in arrivals.items()}
    step.segments = await _segments(bench, timed)
    return step


def _status(outcome: sender.Outcome) -> str:
    """The status with its problem's type ("503 upstream-unavailable"): a load shed and an
    upstream that did not answer are both 503s."""
    if outcome.status <= 0:
        return "timeout" if outcome.status < 0 else "error"
    return f"{outcome.status} {outcome.kind}".strip()


async def _drained(
    bench: Bench, clients: SocketClients, first_arrival: int, items: set[str]
) -> int:
    """Waits (at most :data:`DRAIN_SECONDS`) until every reservation the step made has
    reached its viewer's socket and both outboxes are empty, so that no step starts on
    another's backlog (events still queued in RabbitMQ, say) nor counts its CPU; returns
    how many the step made, from wishlists' table: a request the bench gave up on may
    still have been served, and its work counted."""
    connection = await asyncpg.connect(bench.stack.database.admin_url)
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while True:
            row = await connection.fetchrow(
                """
                SELECT (SELECT count(*) FROM wishlists.reservations
                        WHERE item_id = ANY($1::uuid[])),
                       (SELECT count(*) FROM wishlists.outbox WHERE state = 'pending')
                     + (SELECT count(*) FROM notifier.outbox WHERE state = 'pending')
                """,
                list(items),
            )
            assert row is not None
            made, pending = row
            arrived = sum(
                1
                for a in clients.arrivals[first_arrival:]
                if a.kind == "item_reserved" and a.item_id in items
            )
            if (arrived >= made and pending == 0) or time.monotonic() > deadline:
                return int(made)
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


SEGMENTS = {
    "send to occurred_at": "gateway, wishlists' request up to its transaction",
    "occurred_at to 201": "commit, answer through the gateway",
    "occurred_at to wishlists relay": "wishlists commit, relay woken, takes the batch",
    "wishlists relay to notification transaction": "publish, RabbitMQ, notifier consumer",
    "notification transaction to push relay": "notifier transaction and commit, relay woken",
    "push relay to socket": "publish to Redis, gateway hub, socket write, client read",
}


async def _segments(
    bench: Bench, arrived: dict[str, tuple[float, float, float]]
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
        at, sent, answered = arrived[row["id"]]
        occurred = float(row["occurred"])
        parts = {"send to occurred_at": occurred - sent, "occurred_at to 201": answered - occurred}
        if row["relayed"] is not None and row["pushed"] is not None:
            relayed, created, pushed = (float(row[k]) for k in ("relayed", "created", "pushed"))
            parts |= {
                "occurred_at to wishlists relay": relayed - occurred,
                "wishlists relay to notification transaction": created - relayed,
                "notification transaction to push relay": pushed - created,
                "push relay to socket": at - pushed,
            }
        for name, seconds in parts.items():
            segments[name].append(seconds * 1000)
    return segments


def _pct(values: list[float], p: float) -> float:
    return percentile(values, p) if values else float("nan")


def _latency(step: Step, p: float) -> float:
    """A percentile of a step's latencies; infinite when no reservation was made at all
    (a platform that answers nothing has not kept any limit)."""
    return percentile(step.latencies, p) if step.latencies else math.inf


def _median(ramps: list[dict[int, Step]], rate: int, value: str) -> float:
    return Spread.of([_of(r[rate], value) for r in ramps]).median


def _of(step: Step, value: str) -> float:
    if value in ("p50", "p99"):
        return _latency(step, float(value[1:]))
    return float(getattr(step, value))


def crossing(rates: tuple[int, ...], p99: dict[int, float], limit: float) -> tuple[str, float]:
    """The offered rate at which p99 passes ``limit``, interpolated linearly between the
    last step under it and the first over it; (words, rate), the rate nan when the ramp
    cannot place it."""
    for n, rate in enumerate(rates):
        if not p99[rate] <= limit:  # nan (nothing arrived) passes it too
            if n == 0:
                return f"below {rate}/s (p99 {p99[rate]:.1f} ms at {rate}/s already)", math.nan
            low = rates[n - 1]
            share = (limit - p99[low]) / (p99[rate] - p99[low]) if math.isfinite(p99[rate]) else 0
            at = low + share * (rate - low)
            return (
                f"{at:.0f}/s (interpolated between {low}/s, p99 {p99[low]:.1f} ms, and"
                f" {rate}/s, p99 {p99[rate]:.1f} ms)",
                at,
            )
    return f"above {rates[-1]}/s (not passed on the ramp)", math.nan


def shedding(rates: tuple[int, ...], ramps: list[dict[int, Step]]) -> tuple[str, float]:
    """The first offered rate at which more than :data:`SHED_SHARE` of the answers (in
    the median ramp) were 429/503, with its p99."""
    for rate in rates:
        share = Spread.of([r[rate].shed / max(1, r[rate].requests) for r in ramps]).median
        if share > SHED_SHARE:
            p99 = _median(ramps, rate, "p99")
            with_header = sum(r[rate].retry_after for r in ramps)
            shed = sum(r[rate].shed for r in ramps)
            return (
                f"{rate}/s: {100 * share:.1f}% of the answers 429/503 ({with_header} of {shed}"
                f" with Retry-After), p99 {p99:.1f} ms",
                float(rate),
            )
    return f"no rate up to {rates[-1]}/s", math.nan


def _result(bench: Bench, rates: tuple[int, ...], ramps: list[dict[int, Step]]) -> Result:
    figures: list[Figure] = []
    for rate in rates:
        steps = [r[rate] for r in ramps]
        achieved = Spread.of([s.achieved for s in steps])
        p50 = Spread.of([_latency(s, 50) for s in steps])
        p99 = Spread.of([_latency(s, 99) for s in steps])
        arrived = Spread.of(
            [100 * sum(map(math.isfinite, s.latencies)) / max(1, s.ok) for s in steps]
        )
        failures = sum((s.statuses for s in steps), Counter[str]())
        requests = sum(s.requests for s in steps)
        failed = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none"
        lag = Spread.of([_pct(s.lag, 99) for s in steps]).median
        achieved_fig = Figure(
            f"{rate}/s: achieved",
            achieved,
            "reservations/s",
            digits=0,
            note=f"{steps[0].sent} measured per run; not 201, of {requests} in all: {failed};"
            f" sent late by the bench, p99 {lag:.1f} ms",
        )
        p99_fig = Figure(f"{rate}/s: p99", p99, "ms")
        if rate in TARGETS:
            least, below = TARGETS[rate]
            achieved_fig.target = f"≥ {least:.0f} reservations/s"
            # Shown and judged to the nearest whole reservation per second.
            achieved_fig.met = round(achieved.median) >= least
            achieved_fig.issue_row = f"event to socket, offered {rate}/s"
            p99_fig.target = f"< {below:.0f} ms"
            p99_fig.met = p99.median < below
            p99_fig.issue_row = f"event to socket, offered {rate}/s"
        cpu = Spread.of([s.cpu_per_reservation for s in steps])
        net = Spread.of([s.net_cpu_per_reservation for s in steps])
        figures += [
            achieved_fig,
            Figure(f"{rate}/s: p50", p50, "ms"),
            p99_fig,
            Figure(f"{rate}/s: arrived", arrived, "%", note=f"within {DRAIN_SECONDS:.0f} s"),
            Figure(f"{rate}/s: CPU per reservation, all processes", cpu, "ms"),
            Figure(
                f"{rate}/s: CPU per reservation, all processes, net of idle",
                net,
                "ms",
                note="less the idle rate of the second before the step",
            ),
        ]
    p99_by_rate = {rate: _median(ramps, rate, "p99") for rate in rates}
    passes, passed_at = crossing(rates, p99_by_rate, P99_LIMIT_MS)
    shed, shed_at = shedding(rates, ramps)
    figures += [
        Figure(
            f"p99 passes {P99_LIMIT_MS:.0f} ms at",
            Spread.of([passed_at]),
            "reservations/s offered",
            digits=0,
            note=f"of the median p99s; {passes}",
        ),
        Figure(
            "shedding (429/503) starts at",
            Spread.of([shed_at]),
            "reservations/s offered",
            digits=0,
            note=f"> {100 * SHED_SHARE:g}% of a step's answers; {shed}",
        ),
    ]
    cpu_rate = 100 if 100 in rates else rates[-1]
    groups = [*PLATFORM, *SERVERS]
    per_group = {
        g: Spread.of([r[cpu_rate].cpu_ms.get(g, 0.0) / max(1, r[cpu_rate].made) for r in ramps])
        for g in groups
    }
    for g in groups:
        figures.append(
            Figure(
                f"{cpu_rate}/s: CPU per reservation, {g}",
                per_group[g],
                "ms",
                digits=2,
                note="idle before the step: "
                + ", ".join(f"{r[cpu_rate].idle.get(g, 0.0):.1f}" for r in ramps)
                + " ms/s",
            )
        )
    plots = [] if bench.quick else [_plot(bench, rates, ramps)]
    return Result(
        "click-to-socket",
        "Click to socket",
        f"Reservations (quantity 1, each on a fresh item) through the gateway by {GIVERS}"
        f" givers on {LISTS} lists, open-loop from the load sender (raw HTTP/1.1 in a process"
        " of its own, since 2026-12-08; before, httpx in the bench's process), at "
        + ", ".join(f"{r}/s" for r in rates)
        + f" offered in turn, each step {_warmup(bench):g} s of warm-up then"
        f" {_window(bench):g} s measured, {bench.repeats} ramps. Each list is watched by its"
        " own viewer's socket, held by a separate client process; givers, owners and viewers"
        " are users with tokens minted with auth's active key, inserted as the superuser into"
        " wishlists' `users` and `shares` (the items too). Latency: from sending the giver's"
        " request to the viewer's read of the push, both wall clock on this machine; a push"
        f" not read within {DRAIN_SECONDS:.0f} s of the step's last answer counts as"
        " infinitely late; a step ends when every reservation it made has reached its"
        " viewer and both outboxes are empty. CPU per"
        " reservation: utime + stime (/proc/<pid>/stat) of the gateway, auth, wishlists and"
        " the notifier (their relays run inside them), PostgreSQL (this database's backends"
        " and the cluster's own processes), RabbitMQ (beam.smp and its children, epmd) and"
        " Redis, from the start of a step's warm-up until everything it sent was delivered"
        " and both outboxes were empty, over the reservations the step made (counted in"
        " wishlists' table). The servers are the machine's:"
        " anything else using them meanwhile counts too; the idle rate of each,"
        " measured for a second before each step, is in the notes and taken off in the net"
        " figures.",
        figures,
        plots,
        findings=_findings(
            rates, ramps, passes=passes, shed=shed, cpu_rate=cpu_rate, per_group=per_group
        ),
    )


def _findings(
    rates: tuple[int, ...],
    ramps: list[dict[int, Step]],
    *,
    passes: str,
    shed: str,
    cpu_rate: int,
    per_group: dict[str, Spread],
) -> str:
    lines = [
        f"p99 passes {P99_LIMIT_MS:.0f} ms at an offered {passes}. The platform starts"
        f" refusing with 429/503 (more than {100 * SHED_SHARE:g}% of a step's answers) at {shed}."
    ]
    for rate, (least, below) in TARGETS.items():
        if rate not in rates:
            continue
        achieved, p99 = _median(ramps, rate, "achieved"), _median(ramps, rate, "p99")
        missed = []
        if round(achieved) < least:
            missed.append(f"{least - achieved:.0f}/s short of {least:.0f}/s achieved")
        if not p99 < below:
            missed.append(f"p99 {p99 - below:.1f} ms over {below:.0f} ms")
        lines.append(
            f"At {rate}/s offered: {achieved:.0f}/s achieved, p99 {p99:.1f} ms: "
            + ("met." if not missed else "missed, " + " and ".join(missed) + ".")
        )
    total = sum(s.median for s in per_group.values())
    shares = ", ".join(
        f"{g} {s.median:.2f} ms ({100 * s.median / max(1e-9, total):.0f}%)"
        for g, s in sorted(per_group.items(), key=lambda kv: -kv[1].median)
    )
    lines.append(
        f"Profile of the {cpu_rate}/s step: CPU per reservation (medians of the ramps) {shares};"
        f" {total:.1f} ms in all, so two cores cap the platform near"
        f" {2000 / max(1e-9, total):.0f} reservations/s."
    )
    steps = [r[cpu_rate] for r in ramps]

    def part(name: str) -> float:
        # Ramps where nothing arrived have no split: the median is of the others.
        known = [x for s in steps if not math.isnan(x := _pct(s.segments.get(name, []), 50))]
        return Spread.of(known).median if known else math.nan

    parts = ", ".join(f"{name} {part(name):.1f} ms" for name in SEGMENTS)
    lines.append(f"Where a reservation's time goes at {cpu_rate}/s (p50 of each part): {parts}.")
    return " ".join(lines)


def _plot(bench: Bench, rates: tuple[int, ...], ramps: list[dict[int, Step]]) -> Path:
    path = bench.plots / "click-to-socket.png"
    # The object API draws with Agg and needs no display, nor pyplot's global state.
    chart = Chart(figsize=(6, 3.5))
    axes = chart.subplots()
    for p in ("p50", "p99"):
        axes.plot(rates, [_median(ramps, r, p) for r in rates], marker="o", label=p)
    axes.axhline(P99_LIMIT_MS, color="red", linestyle="--", label=f"{P99_LIMIT_MS:.0f} ms")
    axes.set_yscale("log")
    axes.set_xlabel("reservations/s offered")
    axes.set_ylabel("ms from the click to the socket")
    axes.legend()
    chart.tight_layout()
    chart.savefig(path, dpi=100)
    return path
