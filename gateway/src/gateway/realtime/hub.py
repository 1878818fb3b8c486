"""One Redis pub/sub connection per gateway process, feeding all of its sockets.

The hub subscribes to a user's channel (``{prefix}notifications:{user id}``)
when that user's first socket on this process joins, and unsubscribes when
the last one leaves; so a process receives only what its own clients need,
and every process with a socket of that user receives each push once (Redis
fans out to every subscribed connection). It also listens on the revocation
channel and closes the sockets whose token or session was revoked.

:meth:`Hub.join` returns only once Redis has confirmed the subscription:
anything published after that reaches the socket, which is what makes
"subscribe, then replay" gap-free.

Redis loss: pub/sub keeps nothing, so messages published while the
connection is down are gone. The hub then closes every socket with
:data:`RESUME` (the client reconnects with ``after=``, and the replay from
the notifier fills the gap) and reconnects with back-off. A Redis that stops
answering without dropping the connection is caught by a PING after
``heartbeat`` seconds of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.api.metrics import NOTIFICATIONS_DROPPED
from wishlist_shared.jwt import AccessClaims
from wishlist_shared.revocation import Revoked, revocations_channel

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401
"""Close code: the credentials are missing, invalid, expired or revoked."""
RESUME = 4008
"""Close code: notifications may have been missed; reconnect with ``after=``."""

_MAX_BACKOFF_SECONDS = 2.0


class RelayUnavailable(Exception):  # noqa: N818 - reads as the condition it reports
    """The hub has no working Redis connection right now."""


class TooManySockets(Exception):  # noqa: N818 - reads as the condition it reports
    """The user already holds as many sockets on this process as one may."""


class Subscriber(Protocol):
    """One socket as the hub sees it."""

    claims: AccessClaims

    def deliver(self, notification_id: str, text: str) -> None:
        """Takes one push; must not block (a slow socket closes itself)."""

    def close(self, code: int, reason: str) -> None:
        """Asks the socket to close; must not block."""


class Hub:
    def __init__(
        self,
        redis_url: str,
        prefix: str,
        *,
        timeout: float,
        heartbeat: float,
        connect: Callable[[], Redis] | None = None,
        max_sockets_per_user: int | None = None,
    ) -> None:
        self.prefix = prefix
        self.max_sockets_per_user = max_sockets_per_user
        self.timeout = timeout
        self.heartbeat = heartbeat
        self._connect = connect or (
            lambda: Redis.from_url(
                redis_url,
                socket_connect_timeout=timeout,
                # No silent reconnects: redis-py would resubscribe behind our
                # back and the messages in between would be lost unnoticed.
                retry=Retry(NoBackoff(), 0),
                # RESP2: redis-py's pure-Python parser reads a published
                # message in about 0.8x the CPU of RESP3's push path, and
                # every push to every socket of this process goes through it.
                protocol=2,
            )
        )
        self._revocations = revocations_channel(prefix)
        self._users: dict[str, set[Subscriber]] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}
        # Redis confirms SUBSCRIBEs in the order they were sent: one waiter
        # per SUBSCRIBE in flight, per channel.
        self._confirmations: dict[str, deque[asyncio.Future[None]]] = {}
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def channel(self, user_id: uuid.UUID | str) -> str:
        return f"{self.prefix}notifications:{user_id}"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="realtime-hub")
        # Not required for the gateway to serve HTTP: sockets opened before
        # Redis answers get "try again later".
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), self.timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def join(self, subscriber: Subscriber) -> None:
        """Feeds ``subscriber`` its user's pushes from the moment this returns."""
        pubsub = self._pubsub
        if pubsub is None or not self._connected.is_set():
            raise RelayUnavailable("no Redis connection")
        channel = self.channel(subscriber.claims.subject)
        subscribers = self._users.get(channel)
        # Counted and added with no await in between: racing handshakes of one
        # user cannot all slip under the cap.
        limit = self.max_sockets_per_user
        if subscribers is not None and limit is not None and len(subscribers) >= limit:
            raise TooManySockets(f"at most {limit} sockets per user")
        if subscribers is None:
            subscribers = self._users[channel] = set()
            ready = self._ready[channel] = asyncio.get_running_loop().create_future()
            self._confirmations.setdefault(channel, deque()).append(ready)
            try:
                await pubsub.subscribe(channel)
            except RedisError as exc:
                self._fail(ready, exc)
        subscribers.add(subscriber)
        try:
            # shield: one socket giving up must not cancel its neighbours' wait.
            await asyncio.wait_for(asyncio.shield(self._ready[channel]), self.timeout)
        except (TimeoutError, RelayUnavailable) as exc:
            self._drop(subscriber)
            raise RelayUnavailable("subscription not confirmed") from exc

    async def leave(self, subscriber: Subscriber) -> None:
        channel = self.channel(subscriber.claims.subject)
        if not self._drop(subscriber):
            return
        pubsub = self._pubsub
        if pubsub is not None and self._connected.is_set():
            try:
                await pubsub.unsubscribe(channel)
            except RedisError as exc:
                # The reader notices the broken connection and resets everything.
                log.warning("unsubscribe from %s failed: %r", channel, exc)

    def _drop(self, subscriber: Subscriber) -> bool:
        """Forgets ``subscriber``; True when it was the last on its channel."""
        channel = self.channel(subscriber.claims.subject)
        subscribers = self._users.get(channel)
        if subscribers is None or subscriber not in subscribers:
            return False
        subscribers.discard(subscriber)
        if subscribers:
            return False
        del self._users[channel]
        self._ready.pop(channel, None)
        return True

    @staticmethod
    def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
        if not future.done():
            future.set_exception(RelayUnavailable(repr(exc)))
            # Retrieved here so an unawaited failure logs nothing.
            future.exception()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._open()
                backoff = 0.1
                await self._read()
            except (RedisError, OSError) as exc:
                log.warning("real-time relay lost Redis: %r", exc)
            finally:
                await self._reset()
            await asyncio.sleep(backoff)  # back-off between reconnection attempts
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def _open(self) -> None:
        self._redis = self._connect()
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(self._revocations)
        # The revocation channel's confirmation: once read, Redis answers.
        while True:
            message = await self._pubsub.get_message(timeout=self.timeout)
            if message is None:
                raise RedisError("no subscription confirmation from Redis")
            if message["type"] == "subscribe":
                break
        self._connected.set()

    async def _read(self) -> None:
        assert self._pubsub is not None
        pubsub = self._pubsub
        loop = asyncio.get_running_loop()
        # A deadline for a stream of messages, moved on as they come (not
        # after every one: moving it costs too), rather than a timeout per
        # read: redis-py's own costs about 0.4x more CPU per message read.
        step = self.heartbeat / 4
        pinged = False
        while True:
            try:
                async with asyncio.timeout(self.heartbeat) as silence:
                    armed = loop.time()
                    while True:
                        message = await pubsub.get_message(timeout=None)
                        if message is None:
                            continue
                        pinged = False
                        self._dispatch(message)
                        now = loop.time()
                        if now - armed >= step:
                            silence.reschedule(now + self.heartbeat)
                            armed = now
            except TimeoutError:
                # Silent for at least three quarters of a heartbeat: PING;
                # a heartbeat more without even the PONG, and Redis is lost.
                if pinged:
                    raise RedisError("Redis silent after a PING") from None
                await pubsub.ping()
                pinged = True

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = _text(message["channel"])
        if kind == "subscribe":
            waiters = self._confirmations.get(channel)
            if waiters:
                waiter = waiters.popleft()
                if not waiters:
                    del self._confirmations[channel]
                if not waiter.done():
                    waiter.set_result(None)
            return
        if kind != "message":
            return
        if channel == self._revocations:
            self._revoke(message["data"])
            return
        subscribers = self._users.get(channel)
        if not subscribers:
            return
        text = _text(message["data"])
        try:
            notification_id = str(json.loads(text)["notification"]["id"])
        except (ValueError, KeyError, TypeError):
            NOTIFICATIONS_DROPPED.labels("malformed").inc()
            log.warning("dropped a push that is not a notification on %s", channel)
            return
        for subscriber in list(subscribers):
            subscriber.deliver(notification_id, text)

    def _revoke(self, data: bytes | str) -> None:
        try:
            revoked = Revoked.from_json(data)
        except ValueError:
            log.warning("dropped a malformed revocation announcement")
            return
        # Revocations are rare (logouts, password changes): a scan is cheap.
        for subscribers in list(self._users.values()):
            for subscriber in list(subscribers):
                if revoked.covers(subscriber.claims):
                    subscriber.close(UNAUTHORIZED, "token revoked")

    async def _reset(self) -> None:
        self._connected.clear()
        lost = [s for subscribers in self._users.values() for s in subscribers]
        for waiters in self._confirmations.values():
            for waiter in waiters:
                self._fail(waiter, RedisError("connection lost"))
        self._users.clear()
        self._ready.clear()
        self._confirmations.clear()
        for subscriber in lost:
            subscriber.close(RESUME, "relay interrupted; resume with after=")
        pubsub, redis = self._pubsub, self._redis
        self._pubsub = self._redis = None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
        if redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
