"""The WebSocket at ``/ws`` and the ticket that opens it from a browser.

One socket's life (:func:`relay`):

1. authenticate: ``?ticket=`` (single use) or an ``Authorization: Bearer``
   header; failing that, accept only to close with 4401;
2. join the hub (subscribed, confirmed by Redis), accept the handshake, then
   check the revocation list once more: a logout announced before the hub
   listened is caught here;
3. with ``?after=<id>``, replay from the notifier what came after that id,
   oldest first, page by page, while live pushes wait in the socket's pending
   list;
4. go live: send what is pending, skipping ids already sent (the replay
   overlaps the pushes, and the notifier's push is at least once).

The socket closes with 4401 when its token expires or is revoked, with 4008
(resume) when its pending list overflows or Redis is lost, and when the client goes.

An idle socket is one task (uvicorn's, running :func:`relay`) waiting for
its client's next message, and no more: it is what a gateway holds by the
thousand. Pushes are sent by a task that lives only while there is something
to send; a replay runs in a task of its own for as long as it lasts. The
reasons to close reach the socket's task by interrupting its wait
(:meth:`Session.wake`, an :func:`asyncio.timeout_at` made to expire at once,
whose own deadline is the token's expiry).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState

from gateway.api import access, forwarded, uncancelled
from gateway.api.deps import Gateway, GatewayDep
from gateway.api.metrics import (
    NOTIFICATIONS_DROPPED,
    NOTIFICATIONS_SENT,
    SOCKET_CLOSES,
    SOCKETS_OPEN,
)
from gateway.realtime.hub import RESUME, UNAUTHORIZED, RelayUnavailable, TooManySockets
from gateway.realtime.tickets import TICKET_SECONDS, Grant
from wishlist_shared import correlation
from wishlist_shared.jwt import AccessClaims, InvalidToken, SigningKeysUnreachable
from wishlist_shared.problems import Problem

log = logging.getLogger(__name__)

TICKET_PATH = "/api/v1/realtime/ticket"
SOCKET_PATH = "/ws"
REPLAY_PATH = "/api/v1/notifications"
REPLAY_PAGE = 200

BAD_REQUEST = 4400
"""Close code: a malformed ``after``."""
UNKNOWN_AFTER = 4404
"""Close code: ``after`` is no notification of this user; reload, reconnect without it."""
TOO_MANY = 4429
"""Close code: over the rate limit, or the user holds too many sockets; wait, then reconnect."""
TRY_AGAIN_LATER = 1013
"""Close code: Redis or the notifier cannot be reached right now."""

# Enough to recognise the repeats that matter: live pushes overlapping the
# replay (the newest ids) and the notifier's at-least-once re-sends.
_SEEN_IDS = 4096
_CLOSE_TIMEOUT_SECONDS = 10.0

_bearer = HTTPBearer(auto_error=False)


class Ticket(BaseModel):
    ticket: str
    """Opens one socket: `GET /ws?ticket=<ticket>`, once, within `expires_in` seconds."""
    expires_in: int


class ReplayFailed(Exception):  # noqa: N818 - reads as the condition it reports
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    """One open socket: what the hub feeds it, and why it should close.

    Lean on purpose (one per idle socket): the pending pushes, the ids already
    sent and the task that sends are made when needed.
    """

    __slots__ = (
        "_live",
        "_sender",
        "_sent",
        "_wait",
        "_woken",
        "claims",
        "closing",
        "pending",
        "queue_size",
        "websocket",
    )

    def __init__(self, claims: AccessClaims, queue_size: int, websocket: WebSocket) -> None:
        self.claims = claims
        self.queue_size = queue_size
        self.websocket = websocket
        self.pending: deque[tuple[str, str]] | None = None
        self.closing: tuple[int, str] | None = None
        self._live = False
        self._sender: asyncio.Task[None] | None = None
        self._wait: asyncio.Timeout | None = None
        self._woken = False
        self._sent: OrderedDict[str, None] | None = None

    def deliver(self, notification_id: str, text: str) -> None:
        if self.closing is not None:
            return
        if self.pending is None:
            self.pending = deque()
        if len(self.pending) >= self.queue_size:
            NOTIFICATIONS_DROPPED.labels("slow_consumer").inc()
            self.close(RESUME, "too slow; resume with after=")
            return
        self.pending.append((notification_id, text))
        self._start_sending()

    def go_live(self) -> None:
        """From now on pushes are sent as they come (the replay, if any, is over)."""
        self._live = True
        self._start_sending()

    def _start_sending(self) -> None:
        # A task only while there is something to send: an idle socket has none.
        if self._live and self._sender is None and self.pending and self.closing is None:
            self._sender = asyncio.create_task(self._send())

    async def _send(self) -> None:
        try:
            await _send_pending(self.websocket, self)
        except (WebSocketDisconnect, OSError):
            self.close(1000, "client left")
        except Exception as exc:  # noqa: BLE001 - any failure to send ends the socket, logged
            log.warning("socket ended by an error: %r", exc)
            self.close(TRY_AGAIN_LATER, "try again later")
        finally:
            self._sender = None

    async def stop_sending(self) -> None:
        sender = self._sender
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.wake()

    def wake(self) -> None:
        """Ends the socket task's wait for its client (see :func:`_feed`), if it is in it."""
        wait = self._wait
        if wait is not None and not self._woken:
            self._woken = True
            wait.reschedule(asyncio.get_running_loop().time())

    def waiting(self, wait: asyncio.Timeout | None) -> None:
        """The wait :meth:`wake` ends; None once it is over."""
        if wait is not None:
            self._woken = False
        self._wait = wait

    def wait_ended(self) -> None:
        """The wait expired: :meth:`wake` ended it, or else its deadline, the token's expiry."""
        if not self._woken:
            self.close(UNAUTHORIZED, "token expired")

    def sent_before(self, notification_id: str) -> bool:
        """Whether the id was sent (among the last few thousand): repeats are not sent."""
        return self._sent is not None and notification_id in self._sent

    def sent(self, notification_id: str) -> None:
        sent = self._sent
        if sent is None:
            sent = self._sent = OrderedDict()
        sent[notification_id] = None
        if len(sent) > _SEEN_IDS:
            sent.popitem(last=False)


def router() -> APIRouter:
    r = APIRouter()

    @r.post(
        TICKET_PATH,
        response_model=Ticket,
        summary="A single-use ticket that opens the WebSocket",
        description=f"Valid for {TICKET_SECONDS} s: `GET /ws?ticket=<ticket>`.",
        tags=["realtime"],
    )
    async def issue_ticket(
        request: Request,
        gateway: GatewayDep,
        # Declared so the OpenAPI document shows the route as authenticated;
        # access.admit does the checking.
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Ticket:
        caller = await access.admit(
            request,
            None,
            address=_address(request, gateway),
            verifier=gateway.tokens.verifier,
            checkpoint=gateway.checkpoint,
            limits=gateway.limits,
        )
        token = access.bearer_token(request)
        # Admitted: both are there.
        assert caller.claims is not None
        assert token is not None
        claims = caller.claims
        grant = Grant(
            user_id=str(claims.subject),
            session_id=str(claims.session_id) if claims.session_id else None,
            expires_at=claims.expires_at,
            token=token,
        )
        try:
            ticket = await gateway.tickets.issue(grant)
        except RedisError as exc:
            raise access.unavailable() from exc
        return Ticket(ticket=ticket, expires_in=TICKET_SECONDS)

    return r


class SocketsFirst:
    """ASGI middleware: ``/ws`` goes straight to its handler, everything else on to ``app``.

    Placed just inside the correlation id (the socket's log lines and replay
    requests carry it), ahead of what concerns HTTP requests alone (drain,
    load shedding, metrics, which let a WebSocket through untouched) and of
    the routers, exception handlers and dependency exit stack that the
    socket does not use: every coroutine frame on the way stays alive for
    the whole life of every socket, and an idle socket is mostly that.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "websocket"
            and scope["path"] == scope.get("root_path", "") + SOCKET_PATH
        ):
            await relay(WebSocket(scope, receive, send))
        else:
            await self.app(scope, receive, send)


async def relay(websocket: WebSocket) -> None:
    """Serves one socket from handshake to close."""
    gateway: Gateway = websocket.app.state.gateway
    code, reason = await _open(websocket, gateway)
    SOCKET_CLOSES.labels(str(code)).inc()
    if websocket.client_state is WebSocketState.CONNECTING:
        # Accepted only to say why it closes: a refused handshake is a
        # bare 403 to a browser, a close code is not.
        await websocket.accept()
    with contextlib.suppress(Exception):
        # A client that stopped reading cannot take a close frame either;
        # the server's ping timeout ends such a connection.
        await asyncio.wait_for(websocket.close(code, reason), _CLOSE_TIMEOUT_SECONDS)


async def _open(websocket: WebSocket, gateway: Gateway) -> tuple[int, str]:
    """Checks the handshake, then serves the socket; the close code and reason."""
    try:
        admitted = await _authenticate(websocket, gateway)
    except Problem as exc:
        # Over the rate limit: the same budget as any request.
        return TOO_MANY, str(exc)[:100]
    except (RedisError, SigningKeysUnreachable) as exc:
        log.warning("socket refused, Redis or auth's signing keys unreachable: %r", exc)
        return TRY_AGAIN_LATER, "try again later"
    if admitted is None:
        return UNAUTHORIZED, "unauthorized"
    claims, token = admitted
    del admitted
    after_text = websocket.query_params.get("after")
    try:
        after = uuid.UUID(after_text) if after_text else None
    except ValueError:
        return BAD_REQUEST, "after is not a notification id"
    if after is None:
        # Needed for the replay alone: not kept by thousands of idle sockets.
        token = ""
    return await _serve(websocket, gateway, claims, token, after)


async def _serve(
    websocket: WebSocket,
    gateway: Gateway,
    claims: AccessClaims,
    token: str,
    after: uuid.UUID | None,
) -> tuple[int, str]:
    """Runs the socket until it must close; returns the close code and reason."""
    session = Session(claims, gateway.settings.ws_send_queue_size, websocket)
    try:
        await gateway.hub.join(session)
    except TooManySockets as exc:
        return TOO_MANY, str(exc)
    except RelayUnavailable:
        return TRY_AGAIN_LATER, "try again later"
    # Accepted once subscribed: when the client's handshake completes, every
    # notification published from then on reaches it.
    try:
        await websocket.accept()
    except Exception:
        await gateway.hub.leave(session)
        raise
    SOCKETS_OPEN.inc()
    try:
        return await _feed(websocket, gateway, session, token, after)
    finally:
        SOCKETS_OPEN.dec()


async def _feed(
    websocket: WebSocket,
    gateway: Gateway,
    session: Session,
    token: str,
    after: uuid.UUID | None,
) -> tuple[int, str]:
    """Replays, relays and watches for the reasons to close, until one comes.

    This task only waits for its client: its frames are kept for as long as
    the socket is open. Pushes are sent by a task that lives while there is
    something to send (:meth:`Session.deliver`), the replay by one of its own.
    """
    claims = session.claims
    # The token's expiry, on the loop's clock: the deadline of every wait below.
    expires = asyncio.get_running_loop().time() + max(0.0, claims.expires_at - time.time())
    replay: asyncio.Task[None] | None = None
    try:
        # Joined first, checked second: a revocation is either already in the
        # list or announced to the hub, which now knows this socket.
        if await gateway.tokens.revocations.is_revoked(claims):
            return UNAUTHORIZED, "token revoked"
        if after is None:
            session.go_live()
        else:
            replay = asyncio.create_task(_send_replay(websocket, gateway, session, token, after))
            replay.add_done_callback(functools.partial(_replay_ended, session))
        while session.closing is None:
            # A timeout at the token's expiry that Session.wake makes expire
            # at once: asyncio's own way to interrupt this task's await from
            # outside, told apart from a cancellation of the task itself.
            wait = asyncio.timeout_at(expires)
            try:
                async with wait:
                    session.waiting(wait)
                    try:
                        # Clients have nothing to say; reading is how a goodbye is noticed.
                        message = await websocket.receive()
                    finally:
                        session.waiting(None)
            except TimeoutError:
                if not wait.expired():
                    raise
                session.wait_ended()
                continue
            if message["type"] == "websocket.disconnect":
                return 1000, "client left"
        return session.closing
    except RedisError as exc:
        log.warning("socket closed, Redis failed: %r", exc)
        return TRY_AGAIN_LATER, "try again later"
    finally:
        if replay is not None:
            replay.cancel()
            await asyncio.gather(replay, return_exceptions=True)
        await session.stop_sending()
        # Leaving first: a slow client stops being fed before the close
        # frame waits behind what it has not read.
        await gateway.hub.leave(session)


def _replay_ended(session: Session, replay: asyncio.Task[None]) -> None:
    """Closes the socket when its replay failed; a replay that went well went live itself."""
    if replay.cancelled():
        return
    error = replay.exception()
    if error is None:
        return
    if isinstance(error, ReplayFailed):
        session.close(error.code, error.reason)
    elif isinstance(error, WebSocketDisconnect | OSError):
        session.close(1000, "client left")
    else:
        log.warning("socket ended by an error: %r", error)
        session.close(TRY_AGAIN_LATER, "try again later")


async def _send_pending(websocket: WebSocket, session: Session) -> None:
    """Sends what the hub pushed, oldest first; ends when nothing is pending."""
    pending = session.pending
    while pending:
        notification_id, text = pending[0]
        if not session.sent_before(notification_id):
            await websocket.send_text(text)
            session.sent(notification_id)
            NOTIFICATIONS_SENT.labels("live").inc()
        # Taken off once sent: a send interrupted by a close leaves it there.
        pending.popleft()


async def _send_replay(
    websocket: WebSocket, gateway: Gateway, session: Session, token: str, after: uuid.UUID
) -> None:
    async for notification in _replay(gateway, token, after):
        notification_id = str(notification.get("id"))
        if not session.sent_before(notification_id):
            message = {"type": "notification", "notification": notification}
            await websocket.send_text(json.dumps(message, separators=(",", ":")))
            session.sent(notification_id)
            NOTIFICATIONS_SENT.labels("replay").inc()
    session.go_live()


async def _replay(gateway: Gateway, token: str, after: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    """The caller's notifications after ``after``, oldest first, from the notifier."""
    client = gateway.upstreams["notifier"].client
    base = gateway.upstreams["notifier"].base_url
    params: dict[str, str | int] = {"after": str(after), "limit": REPLAY_PAGE}
    headers = {"Authorization": f"Bearer {token}", correlation.HEADER: correlation.current()}
    while True:
        try:
            # A socket closing mid-replay cancels this; the request must not
            # be cancelled with it (encode/httpcore#1093, gateway.api.uncancelled).
            request = client.build_request(
                "GET", f"{base}{REPLAY_PATH}", params=params, headers=headers
            )
            response = await uncancelled.send(client, request)
        except httpx.HTTPError as exc:
            raise ReplayFailed(TRY_AGAIN_LATER, "notifications unavailable") from exc
        if response.status_code == 404:
            raise ReplayFailed(UNKNOWN_AFTER, "unknown after; reload and reconnect without it")
        if response.status_code == 401:
            raise ReplayFailed(UNAUTHORIZED, "unauthorized")
        if response.status_code != 200:
            raise ReplayFailed(TRY_AGAIN_LATER, "notifications unavailable")
        page = response.json()
        for item in page["items"]:
            yield item
        cursor = page.get("next_cursor")
        if not cursor:
            return
        params = {"cursor": str(cursor), "limit": REPLAY_PAGE}


async def _authenticate(websocket: WebSocket, gateway: Gateway) -> tuple[AccessClaims, str] | None:
    """The claims and token the socket opens with, or None (spent from the address's budget)."""
    address = _address(websocket, gateway)
    ticket = websocket.query_params.get("ticket")
    token: str | None
    if ticket is not None:
        grant = await gateway.tickets.redeem(ticket)
        token = grant.token if grant is not None else None
    else:
        token = access.bearer_token(websocket)
    claims: AccessClaims | None = None
    if token is not None:
        try:
            claims = await gateway.tokens.verifier.verify(token)
        except InvalidToken as exc:
            log.debug("socket token refused: %s", exc)
    if claims is None or token is None:
        await gateway.limits.spend(f"ip:{forwarded.rate_limit_key(address)}")
        return None
    # Again for a ticket: its session may have ended in the meantime.
    if not await gateway.limits.pass_token(gateway.checkpoint, claims, address):
        return None
    return claims, token


def _address(connection: Request | WebSocket, gateway: Gateway) -> str:
    peer = connection.client.host if connection.client is not None else None
    return forwarded.client_address(
        peer, connection.headers.getlist("x-forwarded-for"), gateway.trusted_proxies
    )
