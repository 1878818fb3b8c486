"""Little web servers on loopback for tests of link previews: pages, and traps.

:class:`PageServer` answers each path with a canned raw HTTP response and
records every request; with no page for a path (or as a trap, with no pages at
all) it records the connection and hangs up. Plain ``asyncio`` sockets, so a
test controls every byte: odd headers, redirects, bodies that never end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


def response(
    body: bytes | str = b"",
    *,
    status: str = "200 OK",
    content_type: str | None = "text/html; charset=utf-8",
    headers: Mapping[str, str] | None = None,
    gzipped: bool = False,
    length: bool = True,
) -> bytes:
    """A whole HTTP/1.1 response, ``Connection: close``."""
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status}", "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if gzipped:
        data = gzip.compress(data)
        lines.append("Content-Encoding: gzip")
    if length:
        lines.append(f"Content-Length: {len(data)}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def redirect(location: str, status: str = "302 Found") -> bytes:
    return response(status=status, content_type=None, headers={"Location": location})


@dataclass
class PageServer:
    host: str = "127.0.0.1"
    pages: dict[str, bytes] = field(default_factory=dict)
    """Raw response by request path (with its query)."""
    stall: set[str] = field(default_factory=set)
    """Paths that are answered with headers and then nothing, forever."""
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """``ip:port``, as the link-preview allowlist names it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.address}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEAD_BYTES:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            self.requests.append(Seen(method, path, headers))
            if path in self.stall:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
                await writer.drain()
                await reader.read()  # until the client gives up and hangs up
            if path in self.pages:
                writer.write(self.pages[path])
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def page_server(
    pages: Mapping[str, bytes] | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[PageServer]:
    """A running :class:`PageServer` on a free port of ``host`` (loopback only)."""
    server = PageServer(host=host, pages=dict(pages or {}))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True
