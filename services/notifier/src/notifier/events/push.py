"""Pushing notifications to the gateway's sockets over Redis pub/sub, through the outbox.

A notification's push is an ``outbox`` row written in the notification's own
transaction (:func:`notifier.db.notifications.create`), so a crash between the
commit and the push loses nothing: the shared :class:`OutboxRelay` publishes
pending rows in ``id`` order, which for one recipient is ``seq`` order, through
:class:`RedisPushPublisher` instead of RabbitMQ.

The row's ``routing_key`` is ``notifications:<user id>``; the channel is that
with the Redis prefix in front: ``{redis_prefix}notifications:{user_id}``. The
body is ``{"type": "notification", "notification": {...the REST shape...}}``.
Delivery is at least once (a relay that dies after publishing but before
marking publishes again): the gateway tells repeats apart by notification id.
An error reply from Redis is a refusal of the push (the relay parks it after a
few); a connection refused, lost or timed out is an outage, waited out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ClusterError, ReadOnlyError, ResponseError, TryAgainError

from wishlist_shared.outbox import OutgoingMessage, PublishRefusedError


class PushRefusedError(PublishRefusedError):
    """Redis answered a push's ``PUBLISH`` with an error (out of memory, a command denied...)."""


def push_key(user_id: uuid.UUID) -> str:
    """The outbox ``routing_key`` of a push to ``user_id``: their channel without the prefix."""
    return f"notifications:{user_id}"


def channel(redis_prefix: str, user_id: uuid.UUID) -> str:
    """The Redis pub/sub channel the gateway subscribes to for ``user_id``'s sockets."""
    return f"{redis_prefix}{push_key(user_id)}"


class RedisPushPublisher:
    """The outbox relay's publisher for pushes: a batch's ``PUBLISH`` commands in one pipeline."""

    def __init__(self, redis: Redis, redis_prefix: str) -> None:
        self.redis = redis
        self.redis_prefix = redis_prefix

    async def publish(
        self,
        routing_key: str,
        body: dict[str, Any],
        *,
        message_id: str,
        headers: dict[str, str],
    ) -> None:
        # Pub/sub keeps nothing: nobody listening means no socket is open, and
        # a socket that opens later replays from REST with ?after=.
        try:
            await self.redis.publish(f"{self.redis_prefix}{routing_key}", _encode(body))
        except ResponseError as exc:
            refusal = _refusal(routing_key, message_id, exc)
            if refusal is exc:
                raise
            raise refusal from exc

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Exception | None]:
        """One round trip for the batch: its ``PUBLISH`` commands pipelined, in order.

        Each push's outcome, in order: None once Redis answered it, a
        :class:`PushRefusedError` for its own error reply; the same exception
        for all when the connection failed (none of them known to be sent).
        """
        if not messages:
            return []
        # No MULTI: one push refused must not take the others with it.
        pipeline = self.redis.pipeline(transaction=False)
        for message in messages:
            pipeline.publish(f"{self.redis_prefix}{message.routing_key}", _encode(message.body))
        try:
            replies = await pipeline.execute(raise_on_error=False)
        except Exception as exc:  # noqa: BLE001 - every push's outcome: not known to be sent
            return [exc] * len(messages)
        return [
            _refusal(message.routing_key, message.message_id, reply)
            if isinstance(reply, ResponseError)
            else None
            for message, reply in zip(messages, replies, strict=True)
        ]


def _encode(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def _refusal(routing_key: str, message_id: str, error: ResponseError) -> Exception:
    """What an error reply to a push's ``PUBLISH`` stands for."""
    if isinstance(error, ClusterError | ReadOnlyError | TryAgainError):
        return error  # error replies of a failover in progress: Redis's state, not the push's
    refusal = PushRefusedError(f"{routing_key} {message_id}: {error!r}")
    refusal.__cause__ = error
    return refusal
