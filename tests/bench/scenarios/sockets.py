"""Sockets per gateway process: memory per idle socket, and one push to every user.

What: the one gateway process holds 1k, then 5k, then 10k idle authenticated
WebSockets, each of a different user (so each is also a Redis channel the
hub subscribes to). At each level: the gateway's resident memory per socket,
``(VmRSS with N - VmRSS before) / N`` from ``/proc/<pid>/status``, and the
time to deliver one notification to each of the N users, published on Redis
exactly as the notifier's push relay does (one ``PUBLISH`` per user, on
``{prefix}notifications:{user id}``, the notifier's message shape), until
every socket has read its message.

How: users are minted tokens (:mod:`realtime`), no accounts; the sockets are
held by separate client processes (one per step of the ramp), the publisher
is this process. The ramp is climbed once (memory freed by Python is rarely
given back, so a second climb would measure nothing new); the delivery is
repeated at each level.

Why: the gateway is the one component that holds state per user for as long
as they look at the app; how many it holds per process, and how fast it
fans a burst out to them, sizes a deployment.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from harness import Bench, Figure, Result, Spread, scenario
from matplotlib.figure import Figure as Chart
from realtime import SocketClients, mint_tokens, open_files_limit, rss_kib
from redis.asyncio import Redis

TARGET_SOCKETS = 10_000
TARGET_KIB = 25.0


@scenario("sockets", "Sockets per gateway process")
async def sockets(bench: Bench) -> Result:
    levels = (20, 50) if bench.quick else (1_000, 5_000, TARGET_SOCKETS)
    # A fresh gateway process: what earlier scenarios left in its heap (freed
    # memory Python keeps, caches) must not be counted against, or hide, the sockets.
    gateway = await bench.stack.restart("gateway", **bench.stack.overrides.get("gateway", {}))
    await bench.stack.ready()
    assert gateway.pid is not None
    pid = gateway.pid
    files_limit = open_files_limit(pid)
    users = await mint_tokens(bench.stack, levels[-1])
    redis = Redis.from_url(bench.stack.servers.redis_url)
    prefix = bench.stack.namespace.redis_prefix
    clients: list[SocketClients] = []
    figures: list[Figure] = []
    rows: list[tuple[int, float, float]] = []
    notes: list[str] = []
    await asyncio.sleep(1)
    before = rss_kib(pid)
    try:
        held = 0
        for level in levels:
            batch = users[held:level]
            group = await SocketClients.start(bench.gateway, [t for _, t in batch])
            clients.append(group)
            held = level
            opened = sum(c.opened for c in clients)
            failed = sum(c.failed for c in clients)
            if failed:
                notes.append(f"{failed} of {level} sockets failed to open.")
            if group.retried:
                notes.append(
                    f"Climbing to {level}, the gateway closed {group.retried} new sockets right"
                    " after accepting them (1013, its Redis connection pool of 100 exhausted by"
                    " concurrent handshakes); they were opened again."
                )
            # Let the handshakes' garbage be collected before reading memory.
            await asyncio.sleep(0.2 if bench.quick else 2)
            per_socket = (rss_kib(pid) - before) / max(1, opened)
            delivery = await _deliveries(bench, redis, prefix, users[:level], clients)
            rows.append((level, per_socket, delivery.median))
            at_target = level == TARGET_SOCKETS
            figures.append(
                Figure(
                    f"{level} sockets: gateway RSS per socket",
                    Spread.of([per_socket]),
                    "KiB",
                    target=f"{TARGET_SOCKETS} sockets, < {TARGET_KIB:.0f} KiB each"
                    if at_target
                    else "",
                    met=(opened == level and per_socket < TARGET_KIB) if at_target else None,
                    note=f"{opened} open; {len(batch)} new opened in"
                    f" {group.open_seconds:.1f} s ({group.retried} again after 1013); one climb",
                ),
            )
            figures.append(
                Figure(
                    f"{level} sockets: one push to each, until the last arrives",
                    delivery,
                    "ms",
                    note=f"{level / (delivery.median / 1000):.0f} messages/s",
                    digits=0,
                )
            )
    finally:
        for group in clients:
            await group.close()
        await redis.aclose()
    plots = []
    if not bench.quick:
        plots.append(_plot(bench, rows))
    last_level, last_kib, last_ms = rows[-1]
    missed = last_kib >= TARGET_KIB
    return Result(
        "sockets",
        "Sockets per gateway process",
        f"Idle sockets on the one gateway process at {', '.join(str(n) for n in levels)},"
        " each of a different user with an access token minted with auth's active key"
        " (no accounts), opened (50 handshakes at a time; those the gateway closed at once"
        " with 1013 opened again; permessage-deflate offered as"
        " browsers do) by client processes separate from the platform. Memory: gateway"
        " VmRSS with N sockets minus before the first, over N, read once per level (the"
        " ramp is climbed once). Delivery: one PUBLISH per user on their notification"
        " channel, pipelined from the bench process in the notifier's message shape, timed"
        " from the first PUBLISH until the last socket read its message;"
        f" {bench.repeats} runs per level. The gateway process is restarted before the"
        " first level (a fresh process, as the target asks). The gateway's open-files"
        f" limit was {files_limit}.",
        figures,
        plots,
        findings=(
            f"At {last_level} sockets the gateway held {last_kib:.1f} KiB per socket"
            f" ({'misses' if missed else 'meets'} the {TARGET_KIB:.0f} KiB target"
            + (f" by {last_kib - TARGET_KIB:.1f} KiB" if missed else "")
            + f") and reached all {last_level} users in {last_ms:.0f} ms"
            f" ({last_level / last_ms * 1000:.0f} messages/s). "
            + (" ".join(notes) + " " if notes else "")
            + _limit_note(files_limit, levels[-1])
            + " "
            + WHY
        ),
    )


WHY = (
    "The clients offer permessage-deflate, as browsers do; the gateway declines it (uvicorn"
    " serves it with `--ws-per-message-deflate false`, commit b73ee5f). Before that it"
    " kept a zlib compressor and decompressor per socket: this scenario measured 69.7,"
    " 80.3 and 83.5 KiB per socket at 1k, 5k and 10k sockets on 2026-11-30. An idle"
    " socket is one task (uvicorn's), waiting for its client with no queue of its own"
    " (commits 994225e, d88c09e, fc74b45; it was three tasks and a queue, 47.3 KiB at 10k),"
    " entered ahead of the HTTP-only middleware and routers whose coroutine frames"
    " each socket kept. The handshake's request, response and headers, which uvicorn's"
    " protocol kept for the socket's life, are let go once it is open, and its receive"
    " queue and writable event are lean stand-ins for asyncio's (gateway.realtime.protocol;"
    " 28.0, then 24.2, then 20.1 KiB per socket at 2k sockets on 2026-12-08, measured"
    " outside this scenario). What is left is mostly uvicorn's and websockets' state per"
    " connection (the protocol objects, timers) and the frames of the middleware that run"
    " for every socket. Delivery is one Redis"
    " pub/sub connection per gateway process (RESP2: redis-py's parser takes about 0.8x"
    " the CPU per message of RESP3) decoding every message and writing it to its"
    " socket, on one core: the time grows about in proportion to the number of users, so"
    " it is a rate of messages per second per gateway process."
)


def _limit_note(limit: int, wanted: int) -> str:
    if limit < wanted + 100:
        return (
            f"The gateway's open-files limit ({limit}) is below {wanted} sockets plus its"
            " own descriptors: raise it (LimitNOFILE, ulimit -n) where it is deployed."
        )
    return f"The gateway's open-files limit ({limit}) allows {wanted} sockets."


async def _deliveries(
    bench: Bench,
    redis: Redis,
    prefix: str,
    users: list[tuple[str, str]],
    clients: list[SocketClients],
) -> Spread:
    times: list[float] = []
    for _ in range(bench.repeats):
        starts = [len(c.arrivals) for c in clients]
        first = time.time()
        async with redis.pipeline(transaction=False) as pipe:
            for user_id, _token in users:
                pipe.publish(f"{prefix}notifications:{user_id}", _message())
            await pipe.execute()
        for group, start in zip(clients, starts, strict=True):
            await group.wait_for(start + group.opened, 60)
        arrived = [
            a.at for c, start in zip(clients, starts, strict=True) for a in c.arrivals[start:]
        ]
        missing = sum(c.opened for c in clients) - len(arrived)
        assert missing == 0, f"{missing} sockets did not get their message within 60 s"
        times.append((max(arrived) - first) * 1000)
    return Spread.of(times)


def _message() -> str:
    notification = {
        "id": str(uuid.uuid4()),
        "kind": "item_added",
        "created_at": datetime.now(UTC).isoformat(),
        "read": False,
        "data": {"bench": True},
    }
    return json.dumps({"type": "notification", "notification": notification}, separators=(",", ":"))


def _plot(bench: Bench, rows: list[tuple[int, float, float]]) -> Path:
    path = bench.plots / "sockets.png"
    # The object API draws with Agg and needs no display, nor pyplot's global state.
    figure = Chart(figsize=(9, 3.5))
    left, right = figure.subplots(1, 2)
    levels = [r[0] for r in rows]
    left.plot(levels, [r[1] for r in rows], marker="o")
    left.axhline(TARGET_KIB, color="red", linestyle="--", label="target")
    left.set_xlabel("idle sockets")
    left.set_ylabel("gateway RSS per socket (KiB)")
    left.legend()
    right.plot(levels, [r[2] for r in rows], marker="o")
    right.set_xlabel("users (one socket each)")
    right.set_ylabel("one push to each, until the last (ms)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
