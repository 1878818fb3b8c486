"""PostgreSQL, Redis and RabbitMQ of one test session's own, to break at will.

The fault suite stops, restarts and SIGKILLs servers. Doing that to the
servers every other test uses would break those tests, so it gets its own:
made at the start of its session on spare loopback ports, removed at the end.
Each is a :class:`PrivateServer`: ``stop()`` shuts it down cleanly, ``kill()``
ends it with SIGKILL (no shutdown runs: PostgreSQL recovers from its WAL,
RabbitMQ from its message store, Redis comes back empty), ``start()`` brings
it back on the same port and returns once it answers a client.

Two ways to get them, as for the shared servers (:mod:`.servers`):

- local processes (the default here): a throwaway cluster made by
  ``initdb`` from ``/usr/lib/postgresql/*/bin`` (trust authentication, fsync
  on, so that a hard kill really recovers from the WAL), a second RabbitMQ
  node with its own node name, ports, data and log directories and no
  plugins (the Erlang cookie and epmd are shared with the machine's node,
  which is left alone), and a Redis that keeps nothing on disk. Run as root,
  PostgreSQL and RabbitMQ run as their system users (``initdb`` refuses root).
- containers (where a Docker engine answers, or ``TEST_SERVERS=containers``):
  one container each, bound to fixed host ports so that a restart keeps them;
  ``docker stop``/``docker start``/``docker kill``. Untried where this was
  written (no Docker engine): kept small, and the suite fails loudly if it
  does not work rather than passing untested.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import aio_pika
import asyncpg
from redis.asyncio import Redis

from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.servers import Servers, use_containers

START_TIMEOUT = 90.0
"""Seconds a server may take to answer after a start (PostgreSQL replays its WAL then)."""
STOP_TIMEOUT = 60.0
"""Seconds a clean shutdown may take before it is made a kill."""


class PrivateServer(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def kill(self) -> None: ...


@dataclass
class PrivateServers:
    servers: Servers
    postgresql: PrivateServer
    redis: PrivateServer
    rabbitmq: PrivateServer
    queue_depths: Callable[[], Awaitable[dict[str, int]]]
    """Every queue of the RabbitMQ node and its messages (ready and unacknowledged)."""

    def server(self, name: str) -> PrivateServer:
        found: PrivateServer = getattr(self, name)
        return found


async def answers(servers: Servers, server: str) -> bool:
    """Whether ``server`` answers a real client now (not just accepts TCP)."""
    try:
        if server == "postgresql":
            connection = await asyncpg.connect(servers.postgres_admin_url, timeout=2)
            await connection.close()
        elif server == "redis":
            redis = Redis.from_url(servers.redis_url, socket_connect_timeout=2)
            try:
                await redis.ping()
            finally:
                await redis.aclose()
        else:
            amqp = await aio_pika.connect(servers.rabbitmq_url, timeout=2)
            await amqp.close()
    except Exception:  # noqa: BLE001 - whatever the client says, it is not answering yet
        return False
    return True


async def _until_answers(servers: Servers, server: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not await answers(servers, server):
        if not alive():
            raise RuntimeError(f"private {server} exited while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"private {server} did not answer within {START_TIMEOUT} s")
        await asyncio.sleep(0.2)


# --- local processes ----------------------------------------------------------


def _system_user(name: str) -> str | None:
    """The user a server must run as: its own when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        return None
    return name


def _give(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user, user)


class LocalServer:
    """One server as a child process of this one, so its end is seen and reaped."""

    def __init__(
        self,
        name: str,
        servers: Callable[[], Servers],
        argv: list[str],
        *,
        env: dict[str, str],
        user: str | None,
        cwd: Path,
        log: Path,
    ) -> None:
        self.name = name
        self._servers = servers
        self.argv = argv
        self.env = env
        self.user = user
        self.cwd = cwd
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def start(self) -> None:
        assert not self._alive(), f"private {self.name} is already running"
        log: IO[bytes]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; polled below
                self.argv,
                env=self.env,
                user=self.user,
                group=self.user,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a signal meant for the test run (Ctrl-C)
                # does not reach it, and its process tree is easy to find.
                start_new_session=True,
            )
        await _until_answers(self._servers(), self.name, self._alive)

    async def stop(self) -> None:
        """The clean shutdown each server does on its usual signal."""
        if self._alive():
            assert self.proc is not None
            self.proc.send_signal(self.stop_signal)
            await self._reaped(STOP_TIMEOUT)

    stop_signal = signal.SIGTERM

    async def kill(self) -> None:
        if self._alive():
            assert self.proc is not None
            self.proc.kill()
            await self._reaped(STOP_TIMEOUT)

    async def _reaped(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
            await asyncio.sleep(0.05)


class LocalPostgres(LocalServer):
    """SIGINT is PostgreSQL's fast shutdown (``pg_ctl stop -m fast``)."""

    stop_signal = signal.SIGINT

    async def kill(self) -> None:
        """SIGKILL of the postmaster and every process it started, at once.

        Each backend makes itself a process group of its own (``setsid`` in
        ``InitPostmasterChild``), so the tree is found by parent: the
        postmaster is frozen first so it forks no new child meanwhile.
        """
        if not self._alive():
            return
        assert self.proc is not None
        postmaster = self.proc.pid
        os.kill(postmaster, signal.SIGSTOP)
        for child in _children(postmaster):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.proc.kill()
        await self._reaped(STOP_TIMEOUT)


def _children(pid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after it.
            fields = Path(stat).read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:
                found.append(int(Path(stat).parent.name))
    return found


class LocalRabbitMQ(LocalServer):
    """``rabbitmq-server`` in the foreground: the shell script is our child, the
    Erlang VM its child; the VM writes its own id to ``RABBITMQ_PID_FILE``."""

    def __init__(
        self,
        servers: Callable[[], Servers],
        argv: list[str],
        *,
        env: dict[str, str],
        user: str | None,
        cwd: Path,
        log: Path,
        pid_file: Path,
        ctl: list[str],
    ) -> None:
        super().__init__("rabbitmq", servers, argv, env=env, user=user, cwd=cwd, log=log)
        self.pid_file = pid_file
        self.ctl = ctl

    async def kill(self) -> None:
        """SIGKILL of the Erlang VM (beam.smp) alone: epmd, shared with the
        machine's node, is not part of it and goes on."""
        if not self._alive():
            return
        os.kill(int(self.pid_file.read_text().strip()), signal.SIGKILL)
        await self._reaped(STOP_TIMEOUT)

    async def start(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        await super().start()

    async def queue_depths(self) -> dict[str, int]:
        process = await asyncio.create_subprocess_exec(
            *self.ctl,
            "-q",
            "list_queues",
            "name",
            "messages",
            "--formatter",
            "json",
            env=self.env,
            user=self.user,
            group=self.user,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"list_queues failed: {out.decode(errors='replace')}")
        return {q["name"]: int(q["messages"]) for q in json.loads(out)}


def _postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no initdb: install PostgreSQL's server binaries")
    return Path(initdb).parent


def _make_local(root: Path) -> tuple[LocalPostgres, LocalServer, LocalRabbitMQ, Servers]:
    """The servers' directories, PostgreSQL's cluster and how to run each; none started."""
    root.chmod(0o755)
    ports = {name: free_port() for name in ("postgresql", "redis", "rabbitmq", "erlang-dist")}
    holder: list[Servers] = []

    def current() -> Servers:
        return holder[0]

    # PostgreSQL: initdb, then the postmaster itself as our child.
    pg_user = _system_user("postgres")
    pg_dir = root / "postgresql"
    pg_dir.mkdir()
    _give(pg_dir, pg_user)
    pg_bin = _postgres_bin()
    subprocess.run(
        [str(pg_bin / "initdb"), "-D", str(pg_dir / "data"), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        user=pg_user, group=pg_user, cwd=pg_dir, check=True, capture_output=True,
    )  # fmt: skip
    postgres = LocalPostgres(
        "postgresql",
        current,
        [
            str(pg_bin / "postgres"),
            "-D",
            str(pg_dir / "data"),
            "-p",
            str(ports["postgresql"]),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={pg_dir}",
            # Durable as production: a SIGKILL must leave only what the WAL recovers.
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
            "-c",
            "max_connections=300",
            "-c",
            "log_min_messages=warning",
        ],
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        user=pg_user,
        cwd=pg_dir,
        log=root / "postgresql.log",
    )

    # Redis: nothing on disk, so any restart empties it, as a cache's crash would.
    redis = LocalServer(
        "redis",
        current,
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(ports["redis"]),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--daemonize",
            "no",
        ],
        env=dict(os.environ),
        user=None,
        cwd=root,
        log=root / "redis.log",
    )

    # RabbitMQ: a second node, sharing nothing with the machine's but epmd and
    # the cookie (in the rabbitmq user's home when run as root).
    rabbit_user = _system_user("rabbitmq")
    rabbit_dir = root / "rabbitmq"
    rabbit_dir.mkdir()
    node = f"faults-{uuid.uuid4().hex[:8]}@localhost"
    (rabbit_dir / "enabled_plugins").write_text("")
    (rabbit_dir / "rabbitmq-env.conf").write_text("")
    (rabbit_dir / "rabbitmq.conf").write_text("log.console = false\nlog.file.level = warning\n")
    for path in (rabbit_dir, *rabbit_dir.iterdir()):
        _give(path, rabbit_user)
    rabbit_env = {
        **os.environ,
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(ports["rabbitmq"]),
        "RABBITMQ_DIST_PORT": str(ports["erlang-dist"]),
        "RABBITMQ_MNESIA_BASE": str(rabbit_dir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(rabbit_dir / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(rabbit_dir / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(rabbit_dir / "rabbitmq.conf"),
        "RABBITMQ_CONF_ENV_FILE": str(rabbit_dir / "rabbitmq-env.conf"),
        "RABBITMQ_PID_FILE": str(rabbit_dir / "pid"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    if rabbit_user is not None:
        rabbit_env["HOME"] = pwd.getpwnam(rabbit_user).pw_dir
    scripts = Path("/usr/lib/rabbitmq/bin")
    if not (scripts / "rabbitmq-server").exists():
        # Elsewhere than Debian's package: whatever is on the PATH.
        scripts = Path(shutil.which("rabbitmq-server") or "rabbitmq-server").parent
    rabbitmq = LocalRabbitMQ(
        current,
        [str(scripts / "rabbitmq-server")],
        env=rabbit_env,
        user=rabbit_user,
        cwd=rabbit_dir,
        log=root / "rabbitmq.log",
        pid_file=rabbit_dir / "pid",
        ctl=[str(scripts / "rabbitmqctl"), "-n", node],
    )

    servers = Servers(
        postgres_admin_url=f"postgresql://postgres@127.0.0.1:{ports['postgresql']}/postgres",
        redis_url=f"redis://127.0.0.1:{ports['redis']}/0",
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{ports['rabbitmq']}/",
        source="private",
    )
    holder.append(servers)
    return postgres, redis, rabbitmq, servers


@contextlib.asynccontextmanager
async def local_private_servers() -> AsyncIterator[PrivateServers]:
    root = Path(tempfile.mkdtemp(prefix="wishlist-faults-"))
    postgres, redis, rabbitmq, servers = await asyncio.to_thread(_make_local, root)
    started: list[LocalServer] = []
    try:
        for server in (postgres, redis, rabbitmq):
            await server.start()
            started.append(server)
        yield PrivateServers(servers, postgres, redis, rabbitmq, rabbitmq.queue_depths)
    finally:
        for server in reversed(started):
            await server.kill()
        shutil.rmtree(root, ignore_errors=True)


# --- containers -------------------------------------------------------------------


class ContainerServer:
    """One container; its ports are bound to fixed host ports, so a restart keeps them."""

    def __init__(self, name: str, servers: Callable[[], Servers], container_id: str) -> None:
        self.name = name
        self._servers = servers
        self.container_id = container_id

    async def _docker(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "docker", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"docker {shlex.join(args)}: {out.decode(errors='replace')}")
        return out.decode()

    async def start(self) -> None:
        await self._docker("start", self.container_id)
        await _until_answers(self._servers(), self.name, lambda: True)

    async def stop(self) -> None:
        await self._docker("stop", self.container_id)

    async def kill(self) -> None:
        await self._docker("kill", self.container_id)

    async def queue_depths(self) -> dict[str, int]:
        out = await self._docker(
            "exec", self.container_id, "rabbitmqctl", "-q", "list_queues", "name", "messages",
            "--formatter", "json",
        )  # fmt: skip
        return {q["name"]: int(q["messages"]) for q in json.loads(out)}


@contextlib.asynccontextmanager
async def container_private_servers() -> AsyncIterator[PrivateServers]:
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415
    from testcontainers.rabbitmq import RabbitMqContainer  # noqa: PLC0415
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    ports = {name: free_port() for name in ("postgresql", "redis", "rabbitmq")}
    with (
        PostgresContainer("postgres:16-alpine", driver=None).with_bind_ports(
            5432, ports["postgresql"]
        ) as pg,
        RedisContainer("redis:7-alpine").with_bind_ports(6379, ports["redis"]) as redis,
        RabbitMqContainer("rabbitmq:3.13-alpine").with_bind_ports(5672, ports["rabbitmq"]) as mq,
    ):
        servers = Servers(
            postgres_admin_url=pg.get_connection_url().replace(f"/{pg.dbname}", "/postgres"),
            redis_url=f"redis://127.0.0.1:{ports['redis']}/0",
            rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{ports['rabbitmq']}/",
            source="private containers",
        )
        made = {
            name: ContainerServer(name, lambda: servers, c.get_wrapped_container().id)
            for name, c in (("postgresql", pg), ("redis", redis), ("rabbitmq", mq))
        }
        yield PrivateServers(
            servers,
            made["postgresql"],
            made["redis"],
            made["rabbitmq"],
            made["rabbitmq"].queue_depths,
        )


def private_servers() -> contextlib.AbstractAsyncContextManager[PrivateServers]:
    """Containers where a Docker engine answers (or ``TEST_SERVERS=containers``),
    else local processes; never the shared servers."""
    return container_private_servers() if use_containers() else local_private_servers()
