"""The load and soak scenario: the whole platform under a few hundred locust users.

Starts the platform as real processes on a fresh database and namespace (as the
system tests do), runs ``tests/load/locustfile.py`` headless against the
gateway on 127.0.0.1 for a bounded time, samples the resident memory of every
platform process meanwhile, and at the end measures how long each service's
outbox takes to empty. It passes when locust saw no failure, every endpoint
but register and login (whose cost is the password hash) kept its p99 under
500 ms, no process's memory grew by 10 % or more after the warm-up, every
outbox was empty within a second of the last request, and then no event was
left behind on the way: no outbox row parked, every consumer queue drained within
:data:`QUEUE_DRAIN_SECONDS`, every dead-letter queue empty (checked with
:mod:`wishlist_shared.deliveries`, the operators' command). docs/reliability.md
describes the run and its latest figures.

``make soak`` runs it; by hand: ``python tests/load/soak.py --users 300
--duration 300``. :func:`run_soak` is the core; ``tests/system/test_soak.py``
calls it with a small load so that the scenario cannot rot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from wishlist_shared.deliveries import (
    dead_letter_depths,
    parked_count,
    platform_queues,
    queue_depths,
    service_outbox,
)
from wishlist_shared.settings import ServiceSettings
from wishlist_shared.testing.platform import standalone_stack
from wishlist_shared.testing.stack import SERVICES, UNTHROTTLED, Stack

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
RESULTS = Path(__file__).resolve().with_name("results")
PROCESSES = (*SERVICES, "gateway")

MAX_GROWTH = 0.10
MAX_P99_MS = 500.0
"""Every endpoint's p99 stays under this (issue 18), but those below."""
HASHING = ("auth/register", "auth/login")
"""Endpoints whose cost is the password hash, by design: their p99 is reported, not judged."""
MAX_DRAIN_SECONDS = 1.0
# How long the outbox is watched after the run before it counts as stuck: long
# enough to report how late it was, not only that it was.
DRAIN_WATCH_SECONDS = 30.0
DRAIN_POLL_SECONDS = 0.05
# Consumers may still be handling the last events when the outbox is empty:
# a backlog that outlasts this is one they cannot keep up with, or stuck.
QUEUE_DRAIN_SECONDS = 30.0
QUEUE_POLL_SECONDS = 0.5
# Users in the middle of a task finish it when the time is up, so that no
# request is cut off and the outbox is measured after the last write.
STOP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SoakOptions:
    users: int = 300
    spawn_rate: float = 2.0
    """Users arriving per second. Each registers and signs in: two Argon2id hashes,
    which on 2 cores allow about 3 arrivals a second before auth's queue grows."""
    duration: int = 300
    """Seconds of load, ramp-up included."""
    warmup_fraction: float = 0.3
    """Of the duration; the warm-up lasts at least until the last user has arrived."""
    sample_every: float = 5.0
    """Seconds between two readings of every process's memory."""


@dataclass
class Sample:
    at: float
    """Seconds since locust started."""
    rss_kib: dict[str, int]


@dataclass
class SoakReport:
    options: SoakOptions
    started_at: str
    warmup_seconds: float = 0.0
    locust_seconds: float = 0.0
    locust_exit_code: int | None = None
    totals: dict[str, Any] = field(default_factory=dict)
    """The aggregated row of locust's statistics."""
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per process: RSS (KiB) after warm-up, at the end, the peak, and the growth."""
    backlog_at_end: dict[str, int] = field(default_factory=dict)
    drained_after: float | None = None
    """Seconds from locust's end until every outbox was empty; None if it never was."""
    parked: dict[str, int] = field(default_factory=dict)
    """Outbox rows each service parked (the destination refused them)."""
    queue_backlog: dict[str, int] = field(default_factory=dict)
    """Messages still ready in consumer queues once they had QUEUE_DRAIN_SECONDS to drain."""
    queues_drained_after: float | None = None
    """Seconds from the outbox drain until every consumer queue was empty; None if never."""
    dead_letters: dict[str, int] = field(default_factory=dict)
    """Messages in each consumer queue's dead-letter queue at the end (only the non-empty)."""

    @property
    def requests(self) -> int:
        return int(self.totals.get("requests", 0))

    @property
    def failed(self) -> int:
        return int(self.totals.get("failures", 0))

    def problems(
        self, *, check_memory: bool = True, check_latency: bool | None = None
    ) -> list[str]:
        """What fails the run; empty when it passed. Latency is judged with memory by
        default: a short run on a busy machine tells neither."""
        found = []
        if self.requests == 0:
            found.append("locust sent no request")
        if self.failed:
            found.append(f"{self.failed} of {self.requests} requests failed")
        if check_memory if check_latency is None else check_latency:
            found.extend(self.slow_endpoints())
        missing = set(PROCESSES) - set(self.memory)
        if missing:
            found.append(f"no memory figures for {sorted(missing)}")
        if check_memory:
            found.extend(
                f"{name} grew by {m['growth']:.1%} after the warm-up"
                for name, m in self.memory.items()
                if m["growth"] >= MAX_GROWTH
            )
        if self.drained_after is None:
            found.append(f"outbox not drained {DRAIN_WATCH_SECONDS:.0f} s after the end")
        elif self.drained_after > MAX_DRAIN_SECONDS:
            found.append(f"outbox drained only {self.drained_after:.2f} s after the end")
        if any(self.parked.values()):
            found.append(f"outbox rows parked: {self.parked}")
        if self.queue_backlog:
            found.append(
                f"queues not drained {QUEUE_DRAIN_SECONDS:.0f} s after the outbox: "
                f"{self.queue_backlog}"
            )
        if self.dead_letters:
            found.append(f"messages dead-lettered: {self.dead_letters}")
        return found

    def slow_endpoints(self) -> list[str]:
        """Every endpoint but the hashing ones whose p99 reached :data:`MAX_P99_MS`."""
        return [
            f"{e['name']}: p99 {e['p99_ms']:.0f} ms (limit {MAX_P99_MS:.0f} ms)"
            for e in self.endpoints
            if e["p99_ms"] is not None
            and e["p99_ms"] >= MAX_P99_MS
            and not e["name"].endswith(HASHING)
        ]


def rss_kib(pid: int) -> int:
    """The resident set size of ``pid`` as the kernel reports it (``VmRSS``, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def sample(stack: Stack, at: float) -> Sample:
    readings = {}
    for name in PROCESSES:
        process = stack.processes[name]
        if not process.running or process.pid is None:
            raise RuntimeError(f"{name} is no longer running:\n{process.logs()[-4000:]}")
        readings[name] = rss_kib(process.pid)
    return Sample(at=round(at, 2), rss_kib=readings)


def memory_figures(samples: list[Sample], warmup_seconds: float) -> dict[str, dict[str, float]]:
    """Growth from the first reading after the warm-up to the last reading.

    The warm-up (users still arriving, caches and pools filling, the first
    allocations of every code path) grows memory legitimately; a leak shows
    as growth after it, when the load is steady.
    """
    after = [s for s in samples if s.at >= warmup_seconds] or samples[-1:]
    warm, end = after[0], samples[-1]
    return {
        name: {
            "after_warmup_kib": warm.rss_kib[name],
            "end_kib": end.rss_kib[name],
            "peak_kib": max(s.rss_kib[name] for s in samples),
            "growth": (end.rss_kib[name] - warm.rss_kib[name]) / warm.rss_kib[name],
        }
        for name in PROCESSES
    }


async def outbox_backlog(connection: asyncpg.Connection) -> dict[str, int]:
    """Rows each service has written to its outbox and not yet relayed."""
    backlog = {}
    for service in SERVICES:
        # Schema names are the fixed service names, never input.
        count = await connection.fetchval(
            f"SELECT count(*) FROM {service}.outbox WHERE state = 'pending'"  # noqa: S608
        )
        backlog[service] = int(count)
    return backlog


def platform_settings(stack: Stack) -> ServiceSettings:
    """Where the platform's events are: the stack's RabbitMQ and namespace."""
    return ServiceSettings(
        rabbitmq_url=stack.servers.rabbitmq_url,
        events_exchange=stack.namespace.exchange,
        queue_prefix=stack.namespace.queue_prefix,
    )


async def parked_rows(stack: Stack) -> dict[str, int]:
    """Outbox rows each service parked."""
    url = make_url(stack.database.admin_url).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url)
    try:
        return {s: await parked_count(engine, service_outbox(s)) for s in SERVICES}
    finally:
        await engine.dispose()


async def queue_backlog(settings: ServiceSettings, queues: list[str]) -> dict[str, int]:
    """Ready messages in ``queues``, only those that hold some (a missing queue holds none)."""
    return {q: n for q, n in (await queue_depths(settings, queues)).items() if n}


async def left_behind(report: SoakReport, stack: Stack) -> None:
    """Fills in what the run left on the way: parked rows, queue backlog, dead letters."""
    settings = platform_settings(stack)
    queues = platform_queues(settings)
    report.parked = await parked_rows(stack)
    started = time.monotonic()
    while True:
        report.queue_backlog = await queue_backlog(settings, queues)
        if not report.queue_backlog:
            report.queues_drained_after = round(time.monotonic() - started, 3)
            break
        if time.monotonic() - started >= QUEUE_DRAIN_SECONDS:
            break
        await asyncio.sleep(QUEUE_POLL_SECONDS)
    depths = await dead_letter_depths(settings, queues)
    report.dead_letters = {q: n for q, n in depths.items() if n}


def locust_files(workdir: Path) -> tuple[Path, Path]:
    """The prefix of locust's CSV files in ``workdir``, created if need be, and its log."""
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / "locust", workdir / "locust.log"


def read_stats(
    prefix: Path, log: Path
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(aggregated row, one row per endpoint, failures) from locust's CSV files."""
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics:\n{log.read_text()[-4000:]}")

    def row(raw: dict[str, str]) -> dict[str, Any]:
        return {
            "name": f"{raw['Type']} {raw['Name']}".strip(),
            "requests": int(raw["Request Count"]),
            "failures": int(raw["Failure Count"]),
            "rps": float(raw["Requests/s"]),
            "p50_ms": float(raw["50%"]) if raw["50%"] != "N/A" else None,
            "p95_ms": float(raw["95%"]) if raw["95%"] != "N/A" else None,
            "p99_ms": float(raw["99%"]) if raw["99%"] != "N/A" else None,
            "max_ms": float(raw["Max Response Time"]),
        }

    with Path(f"{prefix}_stats.csv").open(newline="") as f:
        rows = [row(r) for r in csv.DictReader(f)]
    totals = next(r for r in rows if r["name"] == "Aggregated")
    with Path(f"{prefix}_failures.csv").open(newline="") as f:
        failures = [
            {
                "name": f"{r['Method']} {r['Name']}",
                "error": r["Error"],
                "occurrences": int(r["Occurrences"]),
            }
            for r in csv.DictReader(f)
        ]
    return totals, [r for r in rows if r is not totals], failures


async def run_soak(stack: Stack, options: SoakOptions, workdir: Path) -> SoakReport:
    """Starts ``stack``'s platform, puts it under load, and measures it; stops nothing.

    The caller owns the stack: it stops the processes and drops the database.
    """
    report = SoakReport(options=options, started_at=datetime.now(UTC).isoformat())
    # While users still arrive, every registration's Argon2id buffers come
    # and go in auth: the steady state begins when the last one is in.
    report.warmup_seconds = max(
        options.duration * options.warmup_fraction, options.users / options.spawn_rate
    )
    await stack.start_platform(UNTHROTTLED)
    prefix, log = locust_files(workdir)
    command = [
        sys.executable,
        "-m",
        "locust",
        "--headless",
        "--only-summary",
        "--locustfile",
        str(LOCUSTFILE),
        "--host",
        stack.url("gateway"),
        "--users",
        str(options.users),
        "--spawn-rate",
        str(options.spawn_rate),
        "--run-time",
        f"{options.duration}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_SECONDS),
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    connection = await asyncpg.connect(stack.database.admin_url)
    try:
        with log.open("wb") as out:
            locust = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
            started = time.monotonic()
            try:
                report.samples.append(sample(stack, 0.0))
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(locust.wait(), timeout=options.sample_every)
                    if locust.returncode is not None:
                        break
                    report.samples.append(sample(stack, time.monotonic() - started))
            finally:
                if locust.returncode is None:
                    locust.kill()
                    await locust.wait()
        ended = time.monotonic()
        report.locust_seconds = round(ended - started, 2)
        report.locust_exit_code = locust.returncode
        report.backlog_at_end = await outbox_backlog(connection)
        # The reading right after the last request is the end of the memory curve.
        report.samples.append(sample(stack, ended - started))
        while time.monotonic() - ended < DRAIN_WATCH_SECONDS:
            if not any((await outbox_backlog(connection)).values()):
                report.drained_after = round(time.monotonic() - ended, 3)
                break
            await asyncio.sleep(DRAIN_POLL_SECONDS)
    finally:
        await connection.close()
    await left_behind(report, stack)
    report.totals, report.endpoints, report.failures = read_stats(prefix, log)
    report.memory = memory_figures(report.samples, report.warmup_seconds)
    return report


def describe(report: SoakReport) -> str:
    t = report.totals
    o = report.options
    lines = [
        f"{o.users} users (spawn rate {o.spawn_rate}/s) for {o.duration} s; "
        f"locust ran {report.locust_seconds:.0f} s, exit code {report.locust_exit_code}; "
        f"memory growth measured from {report.warmup_seconds:.0f} s on",
        "",
        f"{'endpoint':<58} {'reqs':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}",
    ]
    for e in [*report.endpoints, t]:
        lines.append(
            f"{e['name'][:58]:<58} {e['requests']:>7} {e['failures']:>5} {e['rps']:>7.1f} "
            f"{_ms(e['p50_ms'])} {_ms(e['p95_ms'])} {_ms(e['p99_ms'])}"
        )
    lines += ["", f"{'process':<10} {'after warm-up':>14} {'end':>10} {'peak':>10} {'growth':>8}"]
    for name, m in report.memory.items():
        lines.append(
            f"{name:<10} {m['after_warmup_kib'] / 1024:>11.1f} MiB {m['end_kib'] / 1024:>6.1f} MiB"
            f" {m['peak_kib'] / 1024:>6.1f} MiB {m['growth']:>8.1%}"
        )
    drained = (
        "never" if report.drained_after is None else f"{report.drained_after:.3f} s after the end"
    )
    lines += ["", f"outbox backlog at the end: {report.backlog_at_end}; drained: {drained}"]
    queues = (
        "never"
        if report.queues_drained_after is None
        else f"{report.queues_drained_after:.3f} s after the outbox"
    )
    lines += [
        f"parked outbox rows: {report.parked}; consumer queues drained: {queues}"
        f"{f' (left: {report.queue_backlog})' if report.queue_backlog else ''}; "
        f"dead letters: {report.dead_letters or 'none'}"
    ]
    lines += [f"failure: {f['name']}: {f['error']} x{f['occurrences']}" for f in report.failures]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value:>6.0f}"


def to_json(report: SoakReport, problems: list[str]) -> dict[str, Any]:
    return {
        **asdict(report),
        "passed": not problems,
        "problems": problems,
        "criteria": {
            "failures": 0,
            "max_p99_ms": MAX_P99_MS,
            "p99_not_judged": list(HASHING),
            "max_memory_growth": MAX_GROWTH,
            "max_drain_seconds": MAX_DRAIN_SECONDS,
            "max_queue_drain_seconds": QUEUE_DRAIN_SECONDS,
            "parked_rows": 0,
            "dead_letters": 0,
        },
        "machine": {"cpus": os.cpu_count()},
    }


async def soak(options: SoakOptions, workdir: Path) -> SoakReport:
    """:func:`run_soak` on a platform of its own, torn down whatever happens."""
    async with standalone_stack(ROOT) as stack:
        return await run_soak(stack, options, workdir)


def options_from(argv: list[str] | None) -> tuple[SoakOptions, Path]:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=int(env("SOAK_USERS", "300")))
    parser.add_argument("--spawn-rate", type=float, default=float(env("SOAK_SPAWN_RATE", "2")))
    parser.add_argument(
        "--duration", type=int, default=int(env("SOAK_DURATION", "300")), help="seconds"
    )
    parser.add_argument(
        "--warmup-fraction", type=float, default=float(env("SOAK_WARMUP_FRACTION", "0.3"))
    )
    parser.add_argument("--sample-every", type=float, default=float(env("SOAK_SAMPLE_EVERY", "5")))
    parser.add_argument(
        "--results",
        type=Path,
        default=Path(env("SOAK_RESULTS", str(RESULTS))),
        help="directory for soak-<time>.json and locust's files",
    )
    args = parser.parse_args(argv)
    options = SoakOptions(
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration=args.duration,
        warmup_fraction=args.warmup_fraction,
        sample_every=args.sample_every,
    )
    return options, args.results


def main(argv: list[str] | None = None) -> int:
    options, results = options_from(argv)
    run_dir = results / datetime.now(UTC).strftime("soak-%Y%m%dT%H%M%SZ")
    report = asyncio.run(soak(options, run_dir))
    problems = report.problems()
    print(describe(report))
    (run_dir / "soak.json").write_text(json.dumps(to_json(report, problems), indent=2) + "\n")
    print(f"\nfigures: {run_dir / 'soak.json'}")
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
