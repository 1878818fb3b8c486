"""Service read: a list straight from wishlists against the least app that reads it alike."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from harness import API, Bench, Figure, Result, Spread, WrkRun, interleaved, scenario, wrk
from sqlalchemy.engine import make_url

from wishlist_shared.testing.processes import ServiceProcess

CONNECTIONS = 16
ITEMS = 10
BENCH_DIR = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """utime + stime of a process so far, in milliseconds (fields 14 and 15 of stat(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@scenario("service-read", "Service read")
async def service_read(bench: Bench) -> Result:
    owner = await bench.person("Reader")
    wishlist = await bench.call("POST", "/wishlists", owner, {"title": "Read"})
    for n in range(ITEMS):
        await bench.call(
            "POST",
            f"/wishlists/{wishlist['id']}/items",
            owner,
            {"title": f"gift {n}", "price": "19.99", "currency": "EUR", "notes": "blue"},
        )
    path = f"{API}/wishlists/{wishlist['id']}"
    pool_size = bench.stack.processes["wishlists"].env.get("WISHLISTS_DB_POOL_SIZE", "10")
    minimal = ServiceProcess(
        "bench-minimal",
        "minimal_read_app:create_app",
        {
            "PYTHONPATH": str(BENCH_DIR),
            "BENCH_MINIMAL_DATABASE_URL": _libpq(bench.stack.database.urls["wishlists"]),
            "BENCH_MINIMAL_POOL_SIZE": pool_size,
        },
    )
    await minimal.start()
    try:
        async with httpx.AsyncClient(headers=owner.headers) as client:
            served = (await client.get(bench.url("wishlists") + path)).json()
            baseline = (await client.get(minimal.url + path)).json()
        assert served == baseline, f"the baseline answers otherwise:\n{served}\n{baseline}"
        assert len(served["items"]) == ITEMS
        pids = {"wishlists": bench.stack.processes["wishlists"].pid, "minimal": minimal.pid}
        runs: dict[str, list[WrkRun]] = {"wishlists": [], "minimal": []}
        cpu_per_request: dict[str, list[float]] = {"wishlists": [], "minimal": []}

        async def measure(which: str, base: str) -> float:
            pid = pids[which]
            assert pid is not None
            before = cpu_ms(pid)
            run = await wrk(
                base + path, seconds=bench.seconds, connections=CONNECTIONS, headers=owner.headers
            )
            after = cpu_ms(pid)
            assert run.errors == 0, f"{which}: {run.errors} errors"
            runs[which].append(run)
            requests = run.requests_per_second * bench.seconds
            cpu_per_request[which].append((after - before) / max(requests, 1))
            return run.requests_per_second

        # Warm both (prepared statements, pools) before anything is counted.
        await wrk(bench.url("wishlists") + path, seconds=1, connections=4, headers=owner.headers)
        await wrk(minimal.url + path, seconds=1, connections=4, headers=owner.headers)
        served_rps, minimal_rps, ratio = await interleaved(
            bench.repeats,
            lambda: measure("wishlists", bench.url("wishlists")),
            lambda: measure("minimal", minimal.url),
        )
    finally:
        await minimal.stop()

    def p99(which: str) -> Spread:
        return Spread.of([r.latency_ms[99] for r in runs[which]])

    return Result(
        "service-read",
        "Service read",
        f"`GET {API}/wishlists/{{id}}` of a list with {ITEMS} items, as its owner, with wrk"
        f" (one thread, {CONNECTIONS} connections, {bench.seconds} s per run), straight to the"
        " wishlists service and to a minimal app (`tests/bench/minimal_read_app.py`: FastAPI"
        " and an asyncpg pool of the same size, no middleware, the caller read from the token"
        " unverified) that runs the same SQL as the wishlists role with the same row-level"
        " security settings and answers the same JSON (checked), alternating, "
        f"{bench.repeats} runs each. CPU per request is each process's CPU time"
        " (/proc/<pid>/stat) over a run divided by its requests; PostgreSQL's is not in it."
        f" Both may hold {pool_size} to {2 * int(pool_size)} database connections.",
        [
            Figure("straight to wishlists", served_rps, "req/s", digits=0),
            Figure("minimal app", minimal_rps, "req/s", digits=0),
            Figure(
                "wishlists throughput",
                ratio,
                "x minimal",
                target="≥ 0.7x minimal",
                met=ratio.median >= 0.7,
                digits=2,
            ),
            Figure(
                "wishlists CPU per request", Spread.of(cpu_per_request["wishlists"]), "ms", digits=2
            ),
            Figure(
                "minimal app CPU per request", Spread.of(cpu_per_request["minimal"]), "ms", digits=2
            ),
            Figure("wishlists p99", p99("wishlists"), "ms", digits=1),
            Figure("minimal app p99", p99("minimal"), "ms", digits=1),
        ],
        findings=FINDINGS,
    )


FINDINGS = """\
What wishlists does per read beyond the minimal app: its middleware (correlation
id, drain, load shedding, metrics, tracing when configured), the token check
(the Ed25519 signature once per token, then from a cache; the revocation list in
Redis on every request, one round trip the minimal app does not make), its
connections from SQLAlchemy's pool (which closes a connection opened beyond the
pool's size once it is returned, where asyncpg's pool keeps it), and building
the answer through its pydantic models. The statements themselves run on asyncpg
in both (`wishlists.db.reads`), and both send PostgreSQL the same three
messages: `BEGIN` with the row-level security settings, the query, `COMMIT`."""
