"""Many real-time users without many accounts: minted tokens, seeded rows, a socket process.

Registering and signing in costs two Argon2id hashes (about 0.3 s of CPU) per
user, so the scenarios that need hundreds or thousands of users make them
here instead:

- :func:`mint_tokens` signs access tokens with auth's active key, read from
  auth's database with auth's own code (as auth's integration tests do), with
  the claims auth itself would give (:func:`auth.domain.sessions.access_claims`);
  the gateway cannot tell them from tokens issued at login.
- :class:`Seeder` writes, as the database superuser, the rows wishlists would
  hold for such users (``users``, activated ``shares``) and items in bulk.
- :class:`SocketClients` holds the sockets in a process of its own (this file
  run as a script), so that neither the platform nor the scenario's own
  HTTP client shares an event loop with the receiving end, and records when
  each message arrived (wall clock: every process here reads the same one,
  PostgreSQL's ``now()`` too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import ClientConnection, connect

from auth.db import keys as key_rows
from auth.domain.sessions import access_claims
from auth.keys.material import KeyCipher
from auth.settings import Settings
from wishlist_shared.db import engine as db
from wishlist_shared.testing.stack import Stack

SCRIPT = Path(__file__).resolve()


async def mint_tokens(stack: Stack, count: int) -> list[tuple[str, str]]:
    """``count`` fresh users, each as (user id, access token) signed with auth's active key."""
    settings = Settings()
    engine = create_async_engine(stack.database.urls["auth"])
    try:
        async with db.session_factory(engine)() as session:
            kid = await key_rows.active_kid(session)
            assert kid is not None, "auth has no active signing key"
            pem = await key_rows.encrypted_private_key(session, kid)
            assert pem is not None
    finally:
        await engine.dispose()
    private_key = KeyCipher(settings.secret_key).decrypt(pem)
    now = int(time.time())
    minted: list[tuple[str, str]] = []
    for _ in range(count):
        user_id = uuid.uuid4()
        claims = access_claims(
            user_id=user_id,
            session_id=uuid.uuid4(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            now=now,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
        token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})
        minted.append((str(user_id), token))
    return minted


@dataclass
class Seeder:
    """Rows written straight into wishlists' tables as the superuser (row security bypassed)."""

    connection: asyncpg.Connection

    @classmethod
    async def open(cls, stack: Stack) -> Seeder:
        return cls(await asyncpg.connect(stack.database.admin_url))

    async def close(self) -> None:
        await self.connection.close()

    async def users(self, ids: Sequence[str], name: str = "Seeded") -> None:
        # An old profile_at: should auth's own event about one of them come,
        # it wins, as it would over any older profile.
        await self.connection.execute(
            """
            INSERT INTO wishlists.users (id, email, display_name, profile_at)
            SELECT u, 'seed-' || u::text || '@example.com', $2, 'epoch'::timestamptz
            FROM unnest($1::uuid[]) AS u
            ON CONFLICT (id) DO NOTHING
            """,
            list(ids),
            name,
        )

    async def shares(self, wishlist_id: str, owner_id: str, viewer_ids: Sequence[str]) -> None:
        """Activated shares, as a link redeemed by each viewer leaves them."""
        await self.connection.execute(
            """
            INSERT INTO wishlists.shares (id, wishlist_id, owner_id, viewer_id, via, activated_at)
            SELECT gen_random_uuid(), $1, $2, v, 'link', now() FROM unnest($3::uuid[]) AS v
            """,
            wishlist_id,
            owner_id,
            list(viewer_ids),
        )

    async def items(
        self, wishlist_id: str, owner_id: str, count: int, quantity: int = 1
    ) -> list[str]:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        await self.connection.execute(
            """
            INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity, priority)
            SELECT i, $1, $2, 'seeded gift', $4, 3 FROM unnest($3::uuid[]) AS i
            """,
            wishlist_id,
            owner_id,
            ids,
            quantity,
        )
        return ids


@dataclass(frozen=True)
class Arrival:
    socket: int
    at: float
    """Wall-clock time (``time.time()``) at which the client read the message."""
    notification_id: str
    item_id: str | None
    kind: str


@dataclass
class SocketClients:
    """One socket per token, held by a separate process that reports what arrives."""

    process: asyncio.subprocess.Process
    opened: int
    failed: int
    open_seconds: float
    retried: int
    """Sockets closed by the gateway right after opening (1013), then opened again."""
    arrivals: list[Arrival] = field(default_factory=list)
    _grown: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        gateway: str,
        tokens: Sequence[str],
        *,
        concurrency: int = 50,
        deflate: bool = True,
    ) -> SocketClients:
        """Opens the sockets; ``deflate`` offers permessage-deflate, as browsers do."""
        assert gateway.startswith("http://127.0.0.1"), "benchmarks stay on loopback"
        name = _write_config(
            {
                "url": "ws://" + gateway.removeprefix("http://") + "/ws",
                "tokens": list(tokens),
                "concurrency": concurrency,
                "deflate": deflate,
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            name,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
            # The client is this tree's, even when the platform runs another's sources.
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )
        assert process.stdout is not None
        try:
            line = (await asyncio.wait_for(process.stdout.readline(), 600)).decode().split()
        finally:
            os.unlink(name)
        if not line or line[0] != "open":
            process.kill()
            raise RuntimeError(f"socket client failed to start: {line}")
        clients = cls(process, int(line[1]), int(line[2]), float(line[3]), int(line[4]))
        clients._reader = asyncio.create_task(clients._read())
        return clients

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            socket, at, notification_id, item_id, kind = line.decode().split()
            self.arrivals.append(
                Arrival(
                    int(socket),
                    float(at),
                    notification_id,
                    None if item_id == "-" else item_id,
                    kind,
                )
            )
            self._grown.set()

    async def wait_for(self, count: int, timeout: float) -> bool:
        """True once ``count`` messages arrived in all; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._grown.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grown.wait(), left)
        return True

    async def close(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.process.stdin.write(b"close\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_files_limit(pid: int) -> int:
    """The soft limit on open files of a process, from /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise RuntimeError(f"no open-files limit for {pid}")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; ``p`` in 0..100."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# The socket process: run as ``python realtime.py <config.json>``.


def _write_config(config: dict[str, Any]) -> str:
    handle, name = tempfile.mkstemp(prefix="bench-sockets-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(config, file)
    return name


def _read_config(path: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(Path(path).read_text())
    return config


async def _client_main(config_path: str) -> None:
    config = _read_config(config_path)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Every socket is a descriptor: take all the system lets this process have.
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tokens: list[str] = config["tokens"]
    gate = asyncio.Semaphore(int(config["concurrency"]))
    sockets: list[ClientConnection | None] = [None] * len(tokens)
    out = sys.stdout

    async def relay(index: int, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                at = time.time()
                message = json.loads(raw)
                notification = message.get("notification", {})
                item = notification.get("data", {}).get("item") or {}
                out.write(
                    f"{index} {at:.6f} {notification.get('id')} {item.get('id', '-')}"
                    f" {notification.get('kind', '-')}\n"
                )

    async def open_one(index: int) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                ws = await connect(
                    config["url"],
                    additional_headers={"Authorization": f"Bearer {tokens[index]}"},
                    open_timeout=60,
                    # The server pings; the client only answers.
                    ping_interval=None,
                    max_queue=None,
                    compression="deflate" if config["deflate"] else None,
                )
                sockets[index] = ws
                relays.append(asyncio.create_task(relay(index, ws)))

    async def flush() -> None:
        # Batched: one write per message would cost the CPU the timestamps measure.
        while True:
            await asyncio.sleep(0.005)
            out.flush()

    relays: list[asyncio.Task[None]] = []
    started = time.monotonic()
    await asyncio.gather(*(open_one(i) for i in range(len(tokens))))
    seconds = time.monotonic() - started
    # The gateway may accept a socket and close it at once with 1013 (try
    # again later), as when its Redis pool is exhausted: reconnect those, as
    # a client would, and count them.
    refused = 0
    for _ in range(5):
        await asyncio.sleep(1)
        lost = [i for i, s in enumerate(sockets) if s is None or s.close_code is not None]
        if not lost:
            break
        refused += len(lost)
        for i in lost:
            sockets[i] = None
        await asyncio.gather(*(open_one(i) for i in lost))
    opened = sum(1 for s in sockets if s is not None and s.close_code is None)
    out.write(f"open {opened} {len(tokens) - opened} {seconds:.3f} {refused}\n")
    out.flush()
    flusher = asyncio.create_task(flush())
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    # Any line, or the end of stdin, means close.
    await stdin.readline()
    gate = asyncio.Semaphore(500)

    async def close_one(ws: ClientConnection) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 10)

    await asyncio.gather(*(close_one(s) for s in sockets if s is not None))
    for task in (*relays, flusher):
        task.cancel()
    out.flush()


if __name__ == "__main__":
    asyncio.run(_client_main(sys.argv[1]))
