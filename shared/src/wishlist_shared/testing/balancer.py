"""A round-robin TCP balancer on loopback: several replicas of a service behind one address.

The gateway takes one URL per service, as it would take a Kubernetes Service's
name; a test that runs two replicas puts a :class:`Balancer` in front of them
and gives the gateway its URL. It behaves like kube-proxy in the respects that
matter to a rolling restart:

- each new connection goes to the next backend in the rotation;
- :meth:`Balancer.remove` takes a backend out of the rotation, as the endpoint
  controller takes out a terminating pod: new connections stop going there,
  but connections already open to it stay open until either side closes them
  (conntrack keeps established flows), so the replica must drain them itself;
- a backend that refuses a connection is skipped for that connection (nothing
  was sent yet, so trying the next one is safe); only when every backend
  refuses is the client's connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """One replica's address."""

    host: str
    port: int

    @classmethod
    def local(cls, port: int) -> Backend:
        return cls("127.0.0.1", port)


class Balancer:
    """``async with Balancer([Backend.local(p1), Backend.local(p2)]) as lb:`` then ``lb.url``."""

    def __init__(self, backends: list[Backend]) -> None:
        self._backends: list[Backend] = list(backends)
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.connections: Counter[Backend] = Counter()
        """Connections made to each backend so far."""
        self.open: Counter[Backend] = Counter()
        """Connections open to each backend right now."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def backends(self) -> tuple[Backend, ...]:
        """The backends in the rotation, in order."""
        return tuple(self._backends)

    def add(self, backend: Backend) -> None:
        if backend not in self._backends:
            self._backends.append(backend)

    def remove(self, backend: Backend) -> None:
        """Sends no new connection to ``backend``; its open ones carry on."""
        if backend in self._backends:
            self._backends.remove(backend)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Balancer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _connect(
        self,
    ) -> tuple[Backend, asyncio.StreamReader, asyncio.StreamWriter] | None:
        # One pass over the rotation as it is now, starting at the next turn.
        candidates = list(self._backends)
        if not candidates:
            return None
        start = next(self._turn)
        for i in range(len(candidates)):
            backend = candidates[(start + i) % len(candidates)]
            try:
                reader, writer = await asyncio.open_connection(backend.host, backend.port)
            except OSError:
                continue
            return backend, reader, writer
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            upstream = await self._connect()
            if upstream is None:
                writer.transport.abort()
                return
            backend, up_reader, up_writer = upstream
            self.connections[backend] += 1
            self.open[backend] += 1
            self._writers.update((writer, up_writer))
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                self.open[backend] -= 1
                self._writers.difference_update((writer, up_writer))
                for w in (writer, up_writer):
                    w.close()
        finally:
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            # A clean end of one direction is passed on as one (a half-close),
            # so an HTTP server's orderly close looks the same through here.
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            writer.transport.abort()
        finally:
            with contextlib.suppress(Exception):
                await writer.drain()
