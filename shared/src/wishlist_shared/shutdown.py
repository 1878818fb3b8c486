"""Graceful shutdown: what a process does between SIGTERM and exit.

uvicorn, on SIGTERM, closes its listening socket, closes every idle keep-alive
connection at once, lets requests in flight finish (``--timeout-graceful-shutdown``),
sends 1012 (service restart) to open WebSockets, then runs the app's lifespan
shutdown. One step of that loses requests under load: a client (the gateway's
connection pool, a proxy) may be sending its next request on a keep-alive
connection at the moment the server closes it, and that request fails with no
answer. Nothing tells the client beforehand.

So every process drains first (:class:`Drain`): SIGTERM starts a drain of
``seconds`` during which the process serves as before, except that ``/readyz``
answers 503 (load balancers stop sending it new connections) and every response
carries ``Connection: close`` (a client closes that connection after the answer
instead of reusing it). A connection that carries no request during the drain
is dropped by the client itself once it has been idle for its keep-alive expiry
(the gateway's is 4 s, below uvicorn's 5 s keep-alive timeout), so by the end of
a drain longer than that, no connection is left that a client might be about to
use. Then uvicorn's own shutdown runs, as it would have on SIGTERM. A second
SIGTERM skips what is left of the drain; SIGINT (Ctrl-C) never drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

READINESS_PATH = "/readyz"
_Handler = Any  # what signal.getsignal returns: a callable, SIG_DFL, SIG_IGN or None


class Drain:
    """The drain of one process; :meth:`on_sigterm` arms it for the app's lifetime."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: _Handler = None
        self._end: asyncio.TimerHandle | None = None

    @property
    def draining(self) -> bool:
        return self._draining

    @contextlib.contextmanager
    def on_sigterm(self) -> Iterator[None]:
        """Drains on SIGTERM before the handler in place (uvicorn's) sees it.

        Signal handlers belong to the main thread; elsewhere (a test client's
        portal thread) this does nothing.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._loop = asyncio.get_running_loop()
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, self._previous)
            if self._end is not None:
                self._end.cancel()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        loop = self._loop
        if loop is None or self.seconds <= 0:
            self._forward(signum)
        elif self._draining:
            loop.call_soon_threadsafe(self._forward, signum)
        else:
            self._draining = True
            loop.call_soon_threadsafe(self._begin, signum)

    def _begin(self, signum: int) -> None:
        log.info("SIGTERM: draining for %.1fs, then shutting down", self.seconds)
        assert self._loop is not None
        self._end = self._loop.call_later(self.seconds, self._forward, signum)

    def _forward(self, signum: int) -> None:
        self._draining = True
        if self._end is not None:
            self._end.cancel()
            self._end = None
        previous = self._previous
        if callable(previous):
            previous(signum, None)
        elif previous != signal.SIG_IGN:
            # No server of ours was listening for it: do what SIGTERM does.
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)


class DrainMiddleware:
    """While draining: ``/readyz`` is 503, and every response closes its connection."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.drain.draining and scope["path"] == READINESS_PATH:
            response = JSONResponse(
                {"status": "draining"}, status_code=503, headers={"connection": "close"}
            )
            await response(scope, receive, send)
            return

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and self.drain.draining:
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing_send)
