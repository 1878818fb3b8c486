"""uvicorn's WebSocket protocol as the gateway's sockets need it.

Run the gateway with ``--ws gateway.realtime.protocol:GatewaySockets``.

- The handshake is let go once the socket is open. uvicorn's sans-I/O
  protocol (its default, ``websockets-sansio``) holds the client's handshake
  request and its own 101 response (each with its header lists), and the
  ASGI scope's copy of the request headers, for as long as the connection is
  open. They are read only until the socket is accepted: the gateway
  authenticates, takes the client's address and answers the handshake, and
  from then on only sends and receives. An idle socket is what a gateway
  holds by the thousand, and this was about a seventh of it.
- The receive queue and the "writable" event are lean stand-ins for
  asyncio's Queue and Event (three and one deques, made for every socket,
  about 2 KiB): they hold nothing while empty and nobody waits.
- A client's message may be :data:`CLIENT_MESSAGE_BYTES` long at most; a
  longer one closes the socket with 1009 (message too big). Clients have
  nothing to say on this socket (the server only pushes; pings and closes
  are control frames of at most 125 bytes), so uvicorn's default of 16 MiB
  would only let one client make the gateway buffer that much.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

CLIENT_MESSAGE_BYTES = 4096


class GatewaySockets(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.max_message_size = min(CLIENT_MESSAGE_BYTES, self.config.ws_max_size)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: ASGISendEvent) -> None:
        accepting = not self.handshake_complete
        await super().send(message)
        if accepting and self.handshake_complete and message["type"] == "websocket.accept":
            # Emptied in place: the application's connection object holds the
            # same list (starlette's cached Headers), which would keep it alive.
            self.scope["headers"].clear()  # type: ignore[attr-defined]
            del self.request, self.response


class _Inbox:
    """What uvicorn's protocol uses of an :class:`asyncio.Queue`, for its one reader."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[ASGIReceiveEvent] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class _Flag:
    """What uvicorn's protocol uses of an :class:`asyncio.Event`."""

    __slots__ = ("_is_set", "_waiters")

    def __init__(self) -> None:
        self._is_set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._is_set

    def set(self) -> None:
        self._is_set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._is_set = False

    async def wait(self) -> bool:
        if self._is_set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
