"""uvicorn's WebSocket protocol, minus the handshake it keeps for the socket's whole life.

Run the gateway with ``--ws gateway.realtime.protocol:HandshakeFreed``.

uvicorn's sans-I/O protocol (its default, ``websockets-sansio``) holds the
client's handshake request and its own 101 response (each with its header
lists), and the ASGI scope's copy of the request headers, for as long as the
connection is open. They are read only until the socket is accepted: the
gateway authenticates, takes the client's address and answers the handshake,
and from then on only sends and receives. An idle socket is what a gateway
holds by the thousand, and this was about a fifth of it, so it is let go
once the 101 is written.
"""

from __future__ import annotations

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class HandshakeFreed(WebSocketsSansIOProtocol):
    async def send(self, message: ASGISendEvent) -> None:
        accepting = not self.handshake_complete
        await super().send(message)
        if accepting and self.handshake_complete and message["type"] == "websocket.accept":
            # Emptied in place: the application's connection object holds the
            # same list (starlette's cached Headers), which would keep it alive.
            self.scope["headers"].clear()  # type: ignore[attr-defined]
            del self.request, self.response
