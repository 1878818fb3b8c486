"""An open-loop HTTP/1.1 load sender, in a process of its own.

Each request is sent when it is due, whether or not the ones before it have
answered, over a pool of keep-alive connections (a new one is opened only
when every open one is busy). Every request is timed from when it was due,
so a sender that falls behind shows as latency rather than as a lower rate.

Why not httpx in the bench's process: on two cores the load generator shares
the CPU with the platform it loads. httpx's layers cost about as much CPU per
request as the gateway's whole hop, and in the bench's event loop its lag
(p99 493 ms at 100/s, 2026-12-07) was measured as the platform's. This sender
writes prebuilt request bytes and reads the answer with asyncio streams on
uvloop: tens of microseconds a request, in its own process.

    python sender.py <dir>/plan.json   # writes <dir>/outcomes.json: every request's outcome

The plan (:func:`run` builds it): the base URL, the rate, how many requests,
the requests to send in turn (cycled), how many to send one by one before the
clock starts (warm-up), the most connections, and how long an answer may take.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """What became of one request of the plan."""

    late_ms: float
    """How long after its due time it was written to a connection."""
    latency_ms: float
    """From its due time to the answer's last byte; inf when there was none."""
    sent: float
    """Wall-clock time (``time.time()``) it was written, comparable across processes."""
    answered: float
    """Wall-clock time of the answer's last byte; 0 when there was none."""
    status: int
    """The answer's status; 0 when the connection failed, -1 when it timed out."""
    kind: str
    """A problem answer's ``type`` (its last path segment), else empty."""
    retry_after: bool


def _request_bytes(base: urllib.parse.SplitResult, spec: dict[str, Any]) -> bytes:
    body: bytes = json.dumps(spec["json"]).encode() if spec.get("json") is not None else b""
    lines = [f"{spec.get('method', 'GET')} {spec['path']} HTTP/1.1", f"Host: {base.netloc}"]
    lines += [f"{name}: {value}" for name, value in spec.get("headers", {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool, bool]:
    """(status, body, has Retry-After, connection kept) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        body = b"".join(parts)
    else:
        body = b"" if status in (204, 304) else await reader.read()
    kept = headers.get("connection", "").lower() != "close"
    return status, body, "retry-after" in headers, kept


def _problem_kind(status: int, body: bytes) -> str:
    if status < 400:
        return ""
    try:
        problem = json.loads(body)
    except ValueError:
        return ""
    kind = str(problem.get("type", "")) if isinstance(problem, dict) else ""
    return kind.rstrip("/").rsplit("/", 1)[-1]


class _Connections:
    """Keep-alive connections to one host; at most ``limit`` open at once."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(limit)

    async def exchange(self, request: bytes) -> tuple[float, float, int, bytes, bool]:
        """(loop time and wall time written, status, body, has Retry-After) of one request."""
        async with self.slots:
            if self.idle:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                written, sent = time.perf_counter(), time.time()
                writer.write(request)
                status, body, retry_after, kept = await _read_answer(reader)
            except BaseException:
                writer.close()
                raise
            if kept:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return written, sent, status, body, retry_after


async def _send(plan: dict[str, Any]) -> list[Outcome]:
    base = urllib.parse.urlsplit(plan["base"])
    assert base.hostname in ("127.0.0.1", "::1"), "benchmarks stay on loopback"
    requests = [_request_bytes(base, spec) for spec in plan["requests"]]
    connections = _Connections(base.hostname, base.port or 80, plan["connections"])
    for n in range(plan.get("warm_up", 0)):
        await connections.exchange(requests[n % len(requests)])
    rate: float = plan["rate"]
    count: int = plan["count"]
    timeout: float = plan["timeout"]
    outcomes: list[Outcome | None] = [None] * count

    async def one(n: int, due: float) -> None:
        written, sent, status, kind, retry_after, answered = due, 0.0, 0, "", False, 0.0
        try:
            async with asyncio.timeout(timeout):
                written, sent, status, body, retry_after = await connections.exchange(
                    requests[n % len(requests)]
                )
            answered = time.time()
            kind = _problem_kind(status, body)
        except TimeoutError:
            status = -1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status = 0
        outcomes[n] = Outcome(
            late_ms=(written - due) * 1000 if sent else math.inf,
            latency_ms=(time.perf_counter() - due) * 1000 if answered else math.inf,
            sent=sent,
            answered=answered,
            status=status,
            kind=kind,
            retry_after=retry_after,
        )

    tasks = []
    start = time.perf_counter() + 0.05
    for n in range(count):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    for _, writer in connections.idle:
        writer.close()
    return [o for o in outcomes if o is not None]


async def run(
    base: str,
    requests: list[dict[str, Any]],
    *,
    rate: float,
    count: int,
    connections: int,
    timeout: float,
    warm_up: int = 0,
) -> list[Outcome]:
    """Sends ``count`` requests at ``rate`` per second from a new process; their outcomes.

    A request is ``{"method", "path", "headers", "json"}`` (only ``path`` needed);
    request ``n`` is ``requests[n % len(requests)]``.
    """
    plan = {
        "base": base,
        "requests": requests,
        "rate": rate,
        "count": count,
        "connections": connections,
        "timeout": timeout,
        "warm_up": warm_up,
    }
    with tempfile.TemporaryDirectory(prefix="bench-sender-") as folder:
        path = Path(folder, "plan.json")
        await asyncio.to_thread(path.write_text, json.dumps(plan))
        process = await asyncio.create_subprocess_exec(sys.executable, __file__, str(path))
        assert await process.wait() == 0, f"the load sender failed ({process.returncode})"
        rows = json.loads(await asyncio.to_thread(Path(folder, "outcomes.json").read_text))
    return [Outcome(*row) for row in rows]


def _main(path: str) -> None:
    plan = json.loads(Path(path).read_text())
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: PLC0415 - optional: the standard loop works, only slower

        runner = uvloop.run
    outcomes = runner(_send(plan))
    # A file beside the plan, not stdout: uvloop leaves stdout non-blocking, and
    # a pipe then takes only its first 64 KiB. inf is not JSON; Python's json
    # writes and reads it as Infinity.
    Path(path).with_name("outcomes.json").write_text(
        json.dumps([list(vars(o).values()) for o in outcomes])
    )


if __name__ == "__main__":
    _main(sys.argv[1])
