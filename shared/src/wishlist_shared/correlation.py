"""The correlation id that follows a request through gateway, service, event and consumer."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_header_lower = HEADER.lower().encode()
# A client may pick its own id, but only a short, printable one: it ends up in
# logs and message headers.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str:
    """The id of what is being handled now, or a fresh one outside any request."""
    return correlation_id.get() or new_id()


def accept(candidate: str | None) -> str:
    """A caller-supplied id when it is safe to keep, otherwise a fresh one."""
    if candidate and _ACCEPTABLE.match(candidate):
        return candidate
    return new_id()


class CorrelationMiddleware:
    """Takes ``X-Request-ID`` from the request (or makes one) and returns it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == _header_lower), None
        )
        cid = accept(supplied)
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _header_lower]
                headers.append((_header_lower, cid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
