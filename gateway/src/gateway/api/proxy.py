"""Forwarding one request to a service and streaming its answer back.

Neither body is held in memory: the client's body streams to the service as it
arrives (counted against the size limit on the way) and the service's body
streams back as raw bytes, so Content-Length and Content-Encoding stay true.

When a service gives no answer the client gets a problem+json status:

- 503 ``upstream-unavailable`` when it cannot be reached (refused, connect
  timeout, or no free pooled connection in time): nothing reached the service,
  a retry is safe;
- 503 ``upstream-interrupted`` when the connection broke before a complete
  response head arrived (the service restarted or crashed under the request):
  it may or may not have acted, as with any request whose answer is lost;
- 504 when it accepted the request but did not answer within the read (or
  write) timeout: it may still act on the request.

Both 503s carry ``Retry-After``: the service is expected back within seconds
(a restart, a rollout), and clients should come back rather than give up.

A failure after the response has started cannot change its status: the
connection to the client is then aborted, so the client sees a broken
response rather than a silently truncated one.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from fastapi import Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.api import forwarded, uncancelled
from gateway.api.metrics import REJECTIONS, UPSTREAM_FAILURES, UPSTREAM_RESPONSES
from wishlist_shared import correlation
from wishlist_shared.outages import RETRY_AFTER_SECONDS
from wishlist_shared.problems import Problem, ProblemType

log = logging.getLogger(__name__)

UPSTREAM_UNAVAILABLE = ProblemType(503, "upstream-unavailable", "Service Unavailable")
UPSTREAM_TIMEOUT = ProblemType(504, "upstream-timeout", "Gateway Timeout")
UPSTREAM_INTERRUPTED = ProblemType(503, "upstream-interrupted", "Service Unavailable")
BODY_TOO_LARGE = ProblemType(413, "body-too-large", "Content Too Large")
CLIENT_CLOSED_REQUEST = 499
"""nginx's status for a client that went away before the answer; never sent."""


@dataclass(frozen=True)
class Upstream:
    """One service behind the gateway, with its own connection pool.

    A pool per service means one slow service cannot take the connections
    that requests to the others need.
    """

    name: str
    base_url: httpx.URL
    client: httpx.AsyncClient


@dataclass(frozen=True)
class Origin:
    """Where the request came from, as the service should be told."""

    client_address: str
    scheme: str


class _BodyTooLarge(Exception):  # noqa: N818 - reads as the condition it reports
    pass


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise _BodyTooLarge
        yield chunk


def _target(scope: Scope) -> bytes:
    """The path and query exactly as the client sent them, percent-encoding included."""
    raw_path = scope.get("raw_path") or urllib.parse.quote(scope["path"]).encode("ascii")
    query: bytes = scope.get("query_string", b"")
    return bytes(raw_path) + (b"?" + query if query else b"")


def _body(request: Request, max_bytes: int) -> AsyncIterator[bytes] | bytes | None:
    headers = request.headers
    length = headers.get("content-length")
    if length is None and "transfer-encoding" not in headers:
        return None
    if length is not None and int(length) > max_bytes:
        raise _BodyTooLarge
    if length == "0":
        return b""
    return _limited(request.stream(), max_bytes)


def _outgoing_headers(request: Request, origin: Origin) -> list[tuple[str, str]]:
    headers = forwarded.request_headers(
        [(name.lower(), value) for name, value in request.headers.items()]
    )
    headers += [
        ("x-forwarded-for", origin.client_address),
        ("x-forwarded-proto", origin.scheme),
        ("x-request-id", correlation.current()),
    ]
    # Only the first Authorization header: the one the gateway checked is the
    # one the service sees, whichever header a service's framework would read.
    authorization = request.headers.get("authorization")
    if authorization is not None:
        headers.append(("authorization", authorization))
    return headers


def _too_large(max_bytes: int) -> Problem:
    REJECTIONS.labels("body_too_large").inc()
    return Problem(BODY_TOO_LARGE, f"The request body is larger than {max_bytes} bytes.")


async def forward(
    request: Request, upstream: Upstream, origin: Origin, *, max_body_bytes: int
) -> Response:
    """The service's response to ``request``, streaming; a problem when there is none."""
    try:
        content = _body(request, max_body_bytes)
    except _BodyTooLarge:
        raise _too_large(max_body_bytes) from None
    outgoing = httpx.Request(
        request.method,
        upstream.base_url.copy_with(raw_path=_target(request.scope)),
        headers=_outgoing_headers(request, origin),
        content=content,
    )
    try:
        # Never cancelled mid-wait for a pooled connection: see gateway.api.uncancelled.
        response = await uncancelled.send(upstream.client, outgoing, stream=True)
    except _BodyTooLarge:
        raise _too_large(max_body_bytes) from None
    except ClientDisconnect:
        UPSTREAM_FAILURES.labels(upstream.name, "client_disconnected").inc()
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise _failure(upstream, exc, UPSTREAM_UNAVAILABLE, "unavailable") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        raise _failure(upstream, exc, UPSTREAM_TIMEOUT, "timeout") from exc
    except httpx.TransportError as exc:
        raise _failure(upstream, exc, UPSTREAM_INTERRUPTED, "broken") from exc
    UPSTREAM_RESPONSES.labels(upstream.name, str(response.status_code)).inc()
    return UpstreamResponse(response, upstream.name)


def _failure(upstream: Upstream, exc: Exception, kind: ProblemType, label: str) -> Problem:
    UPSTREAM_FAILURES.labels(upstream.name, label).inc()
    log.warning("request to %s failed: %r", upstream.name, exc)
    details = {
        "unavailable": f"The {upstream.name} service is unavailable; try again shortly.",
        "timeout": f"The {upstream.name} service did not answer in time.",
        "broken": (
            f"The {upstream.name} service went away before answering; "
            "the request may or may not have taken effect."
        ),
    }
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if kind.status == 503 else None
    return Problem(kind, details[label], headers=headers)


class UpstreamResponse(StreamingResponse):
    """A service's response passed on as it arrives; always closes it at the end."""

    def __init__(self, upstream: httpx.Response, service: str) -> None:
        self.upstream = upstream
        self.service = service
        super().__init__(self._chunks(), status_code=upstream.status_code)
        self.raw_headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in forwarded.response_headers(
                [
                    (name.decode("latin-1").lower(), value.decode("latin-1"))
                    for name, value in upstream.headers.raw
                ]
            )
        ]

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.upstream.aiter_raw():
                yield chunk
        except httpx.TransportError as exc:
            UPSTREAM_FAILURES.labels(self.service, "broken_body").inc()
            log.warning("response body from %s broke off: %r", self.service, exc)
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Also when the client goes away mid-body (the stream is cancelled):
        # the connection goes back to the pool or is closed, never leaked.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.upstream.aclose()
