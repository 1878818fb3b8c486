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
- A client's message may be :data:`CLIENT_MESSAGE_BYTES` long at most; a
  longer one closes the socket with 1009 (message too big). Clients have
  nothing to say on this socket (the server only pushes; pings and closes
  are control frames of at most 125 bytes), so uvicorn's default of 16 MiB
  would only let one client make the gateway buffer that much.
"""

from __future__ import annotations

from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

CLIENT_MESSAGE_BYTES = 4096


class GatewaySockets(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.max_message_size = min(CLIENT_MESSAGE_BYTES, self.config.ws_max_size)

    async def send(self, message: ASGISendEvent) -> None:
        accepting = not self.handshake_complete
        await super().send(message)
        if accepting and self.handshake_complete and message["type"] == "websocket.accept":
            # Emptied in place: the application's connection object holds the
            # same list (starlette's cached Headers), which would keep it alive.
            self.scope["headers"].clear()  # type: ignore[attr-defined]
            del self.request, self.response
