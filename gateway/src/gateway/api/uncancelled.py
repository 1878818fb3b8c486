"""Sending to a service so that a caller who goes away never costs a pooled connection.

httpcore 1.0.9 (the newest release) leaks a connection slot for good when a
request is cancelled after the pool has assigned it a new connection but
before that connection is opened (encode/httpcore#1093, open): the slot is
neither idle, closed nor owned by any request, so the pool never reclaims it.
Cancellations are common at the gateway (a client disconnecting, a socket
closing during its replay), and each one under contention may cost a slot:
in the fault suite all 100 connections to the notifier were such slots within
a minute of the gateway's restart, and every later request was a
``PoolTimeout`` until the gateway restarted again.

So the request never sees the caller's cancellation: it runs in a task of its
own, the caller awaits it through :func:`asyncio.shield`, and a cancelled
caller leaves it to finish (the upstream timeouts bound how long) and to have
its response closed, which returns the connection to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

log = logging.getLogger(__name__)

_orphans: set[asyncio.Task[None]] = set()
"""Requests whose caller has gone, and the closing of their responses.

asyncio keeps only weak references to tasks: without these, a request left
running could be collected before it finishes.
"""


async def send(
    client: httpx.AsyncClient, request: httpx.Request, *, stream: bool = False
) -> httpx.Response:
    """``client.send(request, stream=stream)``, never cancelled while it waits for a connection.

    A cancelled caller gets its :class:`asyncio.CancelledError` at once; the
    request goes on, and its response (streamed or not) is closed when it comes.
    """
    sending = asyncio.create_task(client.send(request, stream=stream))
    try:
        return await asyncio.shield(sending)
    except asyncio.CancelledError:
        _orphan(sending)
        raise


def _orphan(sending: asyncio.Task[httpx.Response]) -> None:
    closing = asyncio.create_task(_close_when_done(sending))
    _orphans.add(closing)
    closing.add_done_callback(_orphans.discard)


async def _close_when_done(sending: asyncio.Task[httpx.Response]) -> None:
    # Waited for, not awaited: should this task be cancelled (the loop
    # shutting down), the request is still not.
    await asyncio.wait([sending])
    try:
        response = sending.result()
    except Exception as exc:  # noqa: BLE001 - any failure (a transport error, the client's
        # body breaking off) ends a request nobody awaits; it is only worth a line.
        log.debug("request whose caller went away failed: %r", exc)
        return
    with contextlib.suppress(httpx.HTTPError):
        await response.aclose()
