"""Load shedding: a process serves at most N requests at once and refuses the rest at once.

Past its capacity a process only queues: every request still gets an answer,
but after seconds, then tens of seconds, and the client has long given up.
Refusing what is beyond a bound of requests in flight with a 503 and
``Retry-After`` keeps the latency of the admitted ones near what the process
can do, and tells clients (and the gateway, which passes the answer on) to
come back later. The refusal costs a counter check and a short response: no
routing, no token check, no database.

Liveness, readiness and metrics are never refused: an overloaded process is
alive, and must not be restarted or go unobserved because it is busy.
WebSocket connections are not counted either: they are long-lived by design,
and the gateway bounds each socket's own work.
"""

from __future__ import annotations

import json

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

OVERLOADED_SLUG = "overloaded"
RETRY_AFTER_SECONDS = 1
"""What a shed request is asked to wait: overload passes in seconds, not a restart's time."""
NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})

SHED = Counter(
    "http_requests_shed_total",
    "HTTP requests refused at once because too many were in flight",
    ["service"],
)


def _refusal(limit: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(
        {
            "type": f"/problems/{OVERLOADED_SLUG}",
            "title": "Service Unavailable",
            "status": 503,
            "detail": f"Too many requests in flight (at most {limit}); retry after "
            f"{RETRY_AFTER_SECONDS} s.",
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    ]
    return headers, body


class LoadSheddingMiddleware:
    """Answers 503 ``overloaded`` with ``Retry-After`` while ``limit`` requests are in flight.

    ``limit`` 0 turns shedding off. One event loop per process, so a plain
    counter is exact: nothing runs between the check and the increment.
    """

    def __init__(self, app: ASGIApp, service: str, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self._shed = SHED.labels(service)
        self._headers, self._body = _refusal(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in NEVER_SHED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self._shed.inc()
            await send({"type": "http.response.start", "status": 503, "headers": self._headers})
            await send({"type": "http.response.body", "body": self._body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
