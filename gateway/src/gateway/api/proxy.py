"""Forwarding one request to a service and passing its answer back.

The client's body streams to the service as it arrives (counted against the
size limit on the way). The service's body comes back as raw bytes, so
Content-Length and Content-Encoding stay true: read whole when its
Content-Length is small (:data:`gateway.api.http1.WHOLE_BODY_LIMIT`, one send
and the service's connection free at once), streamed otherwise, never held
whole in memory. Requests go out on :mod:`gateway.api.http1`'s pools.

When a service gives no answer the client gets a problem+json status:

- 503 ``upstream-unavailable`` when it cannot be reached (refused, connect
  timeout, or no free pooled connection in time): nothing reached the service,
  a retry is safe;
- 503 ``upstream-interrupted`` when the connection broke before a complete
  response arrived (the service restarted or crashed under the request; for
  a small answer, read whole, also when its body broke off): it may or may
  not have acted, as with any request whose answer is lost;
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

from gateway.api import forwarded, http1
from gateway.api.metrics import REJECTIONS, UPSTREAM_FAILURES, UPSTREAM_RESPONSES
from gateway.settings import Settings
from wishlist_shared import correlation, tracing
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
    """For the gateway's own calls to the service (the export, the sockets' replay)."""
    pool: http1.Pool
    """For the requests the gateway forwards."""


def forwarding_pool(url: str, settings: Settings) -> http1.Pool:
    """The pool of forwarded requests to the service at ``url``, with the upstream settings."""
    parsed = httpx.URL(url)
    assert parsed.scheme == "http", "services are reached over plain HTTP"
    return http1.Pool(
        parsed.host,
        parsed.port or 80,
        http1.Limits(
            connect=settings.upstream_connect_timeout,
            read=settings.upstream_read_timeout,
            write=settings.upstream_write_timeout,
            pool=settings.upstream_pool_timeout,
            max_connections=settings.upstream_max_connections,
            max_keepalive=settings.upstream_max_keepalive,
            keepalive_expiry=settings.upstream_keepalive_expiry,
        ),
    )


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


def _outgoing_headers(scope: Scope, origin: Origin) -> list[tuple[bytes, bytes]]:
    received = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
    ]
    headers = forwarded.request_headers(received)
    headers += [
        ("x-forwarded-for", origin.client_address),
        ("x-forwarded-proto", origin.scheme),
        ("x-request-id", correlation.current()),
    ]
    # Only the first Authorization header: the one the gateway checked is the
    # one the service sees, whichever header a service's framework would read.
    authorization = next((value for name, value in received if name == "authorization"), None)
    if authorization is not None:
        headers.append(("authorization", authorization))
    # The trace goes on to the service (nothing when tracing is off), in place
    # of any the client sent.
    trace = tracing.current_context_headers()
    if trace:
        headers = [(n, v) for n, v in headers if n not in trace] + list(trace.items())
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _incoming_headers(answer: http1.Answer) -> list[tuple[bytes, bytes]]:
    kept = forwarded.response_headers(
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in answer.headers]
    )
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in kept]


def _too_large(max_bytes: int) -> Problem:
    REJECTIONS.labels("body_too_large").inc()
    return Problem(BODY_TOO_LARGE, f"The request body is larger than {max_bytes} bytes.")


async def forward(
    request: Request, upstream: Upstream, origin: Origin, *, max_body_bytes: int
) -> Response:
    """The service's response to ``request``; a problem when there is none."""
    try:
        content = _body(request, max_body_bytes)
    except _BodyTooLarge:
        raise _too_large(max_body_bytes) from None
    try:
        answer = await upstream.pool.request(
            request.method,
            _target(request.scope),
            _outgoing_headers(request.scope, origin),
            content,
        )
    except _BodyTooLarge:
        raise _too_large(max_body_bytes) from None
    except ClientDisconnect:
        UPSTREAM_FAILURES.labels(upstream.name, "client_disconnected").inc()
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    except http1.Unavailable as exc:
        raise _failure(upstream, exc, UPSTREAM_UNAVAILABLE, "unavailable") from exc
    except http1.Timeout as exc:
        raise _failure(upstream, exc, UPSTREAM_TIMEOUT, "timeout") from exc
    except http1.Broken as exc:
        raise _failure(upstream, exc, UPSTREAM_INTERRUPTED, "broken") from exc
    UPSTREAM_RESPONSES.labels(upstream.name, str(answer.status)).inc()
    if answer.body is None:
        return UpstreamResponse(answer, upstream.name)
    response = Response(status_code=answer.status)
    response.body = answer.body
    response.raw_headers = _incoming_headers(answer)
    return response


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
    """A service's response passed on as it arrives; always gives its connection back."""

    def __init__(self, answer: http1.Answer, service: str) -> None:
        assert answer.stream is not None
        self.answer = answer
        self.service = service
        super().__init__(self._chunks(answer.stream), status_code=answer.status)
        self.raw_headers = _incoming_headers(answer)

    async def _chunks(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        try:
            async for chunk in stream:
                yield chunk
        except (http1.Broken, http1.Timeout) as exc:
            UPSTREAM_FAILURES.labels(self.service, "broken_body").inc()
            log.warning("response body from %s broke off: %r", self.service, exc)
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Also when the client goes away mid-body (the stream is cancelled):
        # the connection goes back to the pool or is closed, never leaked.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.answer.close()
