"""What the relay's tests run against: a notifier that keeps notifications, and socket helpers.

:class:`FakeNotifier` does what the real notifier promises the relay: it
"commits" a notification (keeps it) and then publishes it on the user's Redis
channel, and serves ``GET /api/v1/notifications?after=`` oldest first in
small pages (so the relay must follow ``next_cursor``), 404 for an unknown
``after``. A test can hold the replay's first page to publish during it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from redis.asyncio import Redis
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.settings import JWKS_PATH

RECEIVE_TIMEOUT = 5.0


@dataclass
class FakeNotifier:
    redis: Redis
    redis_prefix: str
    page_size: int = 2
    jwks: dict[str, Any] | None = None
    stored: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    replays: list[dict[str, str]] = field(default_factory=list)
    """Query parameters of each replay request, with the caller's Authorization."""
    hold: asyncio.Event | None = None
    """When set to an Event, the first page of a replay waits for it."""

    async def notify(self, user: str, *, publish: bool = True, size: int = 0) -> dict[str, Any]:
        """Commits one notification for ``user`` and, unless told not to, pushes it."""
        notification = {
            "id": str(uuid.uuid4()),
            "kind": "item_added",
            "created_at": datetime.now(UTC).isoformat(),
            "read": False,
            # Random: the socket compresses (permessage-deflate), and a big
            # but compressible body would never fill a buffer.
            "data": {"title": secrets.token_hex(size // 2)},
        }
        self.stored.setdefault(user, []).append(notification)
        if publish:
            await self.push(user, notification)
        return notification

    async def push(self, user: str, notification: dict[str, Any]) -> None:
        body = {"type": "notification", "notification": notification}
        await self.redis.publish(f"{self.redis_prefix}notifications:{user}", json.dumps(body))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        if scope["path"] == JWKS_PATH and self.jwks is not None:
            await _json(send, 200, self.jwks)
            return
        assert scope["path"] == "/api/v1/notifications", scope["path"]
        query = {k: v[0] for k, v in urllib.parse.parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        authorization = headers.get("authorization", "")
        self.replays.append({**query, "authorization": authorization})
        token = authorization.removeprefix("Bearer ")
        user = str(jwt.decode(token, options={"verify_signature": False})["sub"])
        items = self.stored.get(user, [])
        if "cursor" in query:
            start = int(query["cursor"])
        else:
            if self.hold is not None:
                await self.hold.wait()
            ids = [n["id"] for n in items]
            if query.get("after") not in ids:
                await _json(send, 404, {"status": 404, "title": "Not Found"})
                return
            start = ids.index(query["after"]) + 1
        # What is committed when the page is read, as a database would answer.
        limit = min(int(query.get("limit", "50")), self.page_size)
        page = items[start : start + limit]
        more = start + limit < len(items)
        await _json(send, 200, {"items": page, "next_cursor": str(start + limit) if more else None})


async def _json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def socket_url(http_url: str, **params: str) -> str:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return http_url.replace("http://", "ws://", 1) + "/ws" + query


def open_socket(
    http_url: str, token: str | None = None, *, max_queue: int = 16, **params: str
) -> connect:
    """A client socket (``async with``); ``params`` go in the query string."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return connect(
        socket_url(http_url, **params),
        additional_headers=headers,
        open_timeout=5,
        max_queue=max_queue,
    )


async def next_notification(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    assert message["type"] == "notification", message
    notification: dict[str, Any] = message["notification"]
    return notification


async def ids_received(ws: ClientConnection, count: int) -> list[str]:
    return [(await next_notification(ws))["id"] for _ in range(count)]


async def close_code(ws: ClientConnection) -> int:
    """Reads until the server closes; the code it closed with."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
    except ConnectionClosed:
        pass
    assert ws.close_code is not None, "closed without a close frame"
    return ws.close_code


async def subscribers(redis: Redis, channel: str) -> int:
    counts = await redis.pubsub_numsub(channel)
    return int(counts[0][1])
