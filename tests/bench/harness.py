"""What every benchmark scenario shares: the running platform, people, wrk, figures.

Machines here are noisy (2 cores, shared), so a figure is never a bare
number: each is measured ``repeats`` times and reported as the median with
its range, and where a scenario has a baseline (the same request straight to
the service, raw Argon2id, a bare publish loop) the baseline is measured in
the same run, interleaved with the figure, and the ratio is what is judged.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from wishlist_shared.testing.stack import Stack

API = "/api/v1"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Spread:
    """The median of repeated measurements, with the lowest and highest."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def show(self, unit: str, digits: int = 1) -> str:
        if self.runs == 1:
            return f"{self.median:.{digits}f} {unit}"
        return f"{self.median:.{digits}f} {unit} ({self.low:.{digits}f} to {self.high:.{digits}f})"


@dataclass
class Figure:
    """One number of a scenario, as it goes into BENCHMARKS.md."""

    name: str
    value: Spread
    unit: str
    target: str = ""
    """What it should be, in words ("≥ 0.8x direct"); empty when it is context."""
    met: bool | None = None
    note: str = ""
    digits: int = 1
    issue_row: str = ""
    """The row of the issue's targets table this figure judges (bench.ISSUE_ROWS), when it
    is not the only target of a scenario that row names."""


@dataclass
class Result:
    scenario: str
    title: str
    setup: str
    """How it was measured, in a sentence or two."""
    figures: list[Figure] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    findings: str = ""
    """What the numbers show, and, for a missed target, why and what would close it."""


@dataclass
class Person:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Bench:
    """The running platform and the knobs every scenario follows."""

    stack: Stack
    quick: bool
    """The CI smoke: every scenario runs once, for about a second per measurement."""
    plots: Path
    http: httpx.AsyncClient
    runs: int | None = None
    """``--repeats``: how many times each measurement runs, instead of the default."""

    @property
    def repeats(self) -> int:
        if self.runs is not None:
            return self.runs
        return 1 if self.quick else 3

    @property
    def seconds(self) -> int:
        """How long one throughput measurement runs."""
        return 1 if self.quick else 8

    @property
    def gateway(self) -> str:
        return self.stack.url("gateway")

    def url(self, component: str) -> str:
        return self.stack.url(component)

    async def person(self, name: str = "Bench") -> Person:
        """A registered, signed-in user (two Argon2id hashes: about 0.3 s of CPU)."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": PASSWORD, "display_name": name}
        registered = await self.http.post(f"{API}/auth/register", json=body)
        registered.raise_for_status()
        login = await self.http.post(
            f"{API}/auth/login", json={"email": email, "password": PASSWORD}
        )
        login.raise_for_status()
        return Person(registered.json()["id"], email, login.json()["access_token"])

    async def call(
        self, method: str, path: str, who: Person, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.request(method, API + path, json=body, headers=who.headers)
        response.raise_for_status()
        result: dict[str, Any] = response.json() if response.content else {}
        return result


async def interleaved(
    times: int, first: Callable[[], Awaitable[float]], second: Callable[[], Awaitable[float]]
) -> tuple[Spread, Spread, Spread]:
    """Both measured ``times`` times, alternating, so that drift hits both alike;
    the third spread is of the ratios first/second, pair by pair."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(times):
        a.append(await first())
        b.append(await second())
    # A baseline that did nothing (a quick run on a busy machine) has no ratio, not a crash.
    ratios = [x / y if y else math.nan for x, y in zip(a, b, strict=True)]
    return Spread.of(a), Spread.of(b), Spread.of(ratios)


@dataclass(frozen=True)
class WrkRun:
    requests_per_second: float
    latency_ms: dict[int, float]
    """Percentile → milliseconds (50, 75, 90, 99)."""
    errors: int
    """Socket errors and non-2xx/3xx answers together."""


async def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str | None = None,
    bodies: Sequence[str] = (),
    threads: int = 1,
) -> WrkRun:
    """wrk (C, one thread by default: the load generator must not starve the
    server of the second core) against a loopback URL."""
    assert url.startswith(("http://127.0.0.1", "http://[::1]")), "benchmarks stay on loopback"
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script: Path | None = None
    if method != "GET" or body is not None or bodies:
        handle, name = tempfile.mkstemp(prefix="wrk-", suffix=".lua")
        os.close(handle)
        script = Path(name)
        lua = (
            f'wrk.method = "{method}"\n'
            f"wrk.body = {lua_string(body or '')}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        if bodies:
            # One body after another, round robin: many accounts, not one.
            lua += (
                "local bodies = {" + ", ".join(lua_string(b) for b in bodies) + "}\n"
                "local n = 0\n"
                "request = function()\n"
                "  n = n + 1\n"
                "  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])\n"
                "end\n"
            )
        script.write_text(lua)
        command += ["-s", str(script)]
    command.append(url)
    try:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output, _ = await process.communicate()
    finally:
        if script is not None:
            script.unlink(missing_ok=True)
    text = output.decode()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{text}")
    return parse_wrk(text)


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("no wrk: `make bench` installs Debian's (apt-get install wrk)")
    return found


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(text: str) -> WrkRun:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    latency = {
        int(p): float(v) * _UNITS_MS[u]
        for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    }
    errors = 0
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if socket:
        errors += sum(int(g) for g in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return WrkRun(rps, latency, errors)


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        total_kib = int(info.readline().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{total_kib / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


@dataclass(frozen=True)
class Named:
    name: str
    title: str
    run: Callable[[Bench], Awaitable[Result]]

    async def __call__(self, bench: Bench) -> Result:
        return await self.run(bench)


def scenario(name: str, title: str) -> Callable[[Callable[[Bench], Awaitable[Result]]], Named]:
    """Makes ``async def x(bench) -> Result`` a scenario named ``name`` (``--only name``)."""

    def wrap(run: Callable[[Bench], Awaitable[Result]]) -> Named:
        return Named(name, title, run)

    return wrap


# CPU time of every process a scenario's work runs through, from /proc/<pid>/stat.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PLATFORM = ("gateway", "auth", "wishlists", "notifier")
SERVERS = ("postgres", "rabbitmq", "redis")


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    # After the command: state is field 3 of stat(5); utime and stime are 14 and 15.
    return int(fields[11]) + int(fields[12])


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def children(pid: int) -> list[int]:
    """Every descendant of a process (RabbitMQ's beam.smp runs erl_child_setup and its
    own helpers)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            direct = [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in direct:
            found += [child, *children(child)]
    return found


def pgrep(name: str) -> list[int]:
    done = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False)
    return [int(p) for p in done.stdout.split()]


@dataclass
class CpuMeter:
    """Who to count: the platform's processes (the relays run inside them) and the
    machine's servers. The servers are shared with anything else running on the
    machine; PostgreSQL is narrowed to the backends of the bench's database and
    the cluster's own processes (postmaster, checkpointer, WAL writer, ...), and
    the bench's own connections to that database (seeding, polling) count too."""

    stack: Stack

    async def processes(self) -> dict[str, list[int]]:
        groups = {
            name: [pid] if (pid := self.stack.processes[name].pid) else []
            for name in PLATFORM
            if name in self.stack.processes
        }
        groups["postgres"] = await self._postgres()
        beam = pgrep("beam.smp")
        groups["rabbitmq"] = sorted(
            {*beam, *(c for p in beam for c in children(p)), *pgrep("epmd")}
        )
        groups["redis"] = pgrep("redis-server")
        return groups

    async def _postgres(self) -> list[int]:
        connection = await asyncpg.connect(self.stack.database.admin_url)
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() OR backend_type <> 'client backend'"
            )
        finally:
            await connection.close()
        pids = {int(r["pid"]) for r in rows}
        # The postmaster is not in pg_stat_activity: it is the parent of the rest.
        parents = {parent_pid(p) for p in pids}
        return sorted(p for p in pids | parents if p is not None and p > 1)

    async def read(self) -> CpuReading:
        groups = await self.processes()
        ticks = {
            name: {p: t for p in pids if (t := cpu_ticks(p)) is not None}
            for name, pids in groups.items()
        }
        return CpuReading(time.monotonic(), ticks)


@dataclass(frozen=True)
class CpuReading:
    at: float
    ticks: dict[str, dict[int, int]]
    """Per group (gateway, postgres, ...), per pid, utime + stime in clock ticks."""

    def since(self, before: CpuReading) -> dict[str, float]:
        """CPU milliseconds per group between two readings. A process that started in
        between counts whole; one that ended in between is lost (pooled connections
        and the servers live on, so that is rare)."""
        spent: dict[str, float] = {}
        for name, now in self.ticks.items():
            then = before.ticks.get(name, {})
            ticks = sum(t - then.get(pid, 0) for pid, t in now.items())
            spent[name] = ticks * 1000 / CLOCK_TICKS
        return spent
