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
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ClusterError, ReadOnlyError, ResponseError, TryAgainError

from wishlist_shared.outbox import PublishRefusedError


class PushRefusedError(PublishRefusedError):
    """Redis answered a push's ``PUBLISH`` with an error (out of memory, a command denied...)."""


def push_key(user_id: uuid.UUID) -> str:
    """The outbox ``routing_key`` of a push to ``user_id``: their channel without the prefix."""
    return f"notifications:{user_id}"


def channel(redis_prefix: str, user_id: uuid.UUID) -> str:
    """The Redis pub/sub channel the gateway subscribes to for ``user_id``'s sockets."""
    return f"{redis_prefix}{push_key(user_id)}"


class RedisPushPublisher:
    """The outbox relay's publisher for pushes: one ``PUBLISH`` per row."""

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
            await self.redis.publish(
                f"{self.redis_prefix}{routing_key}", json.dumps(body, separators=(",", ":"))
            )
        except (ClusterError, ReadOnlyError, TryAgainError):
            raise  # error replies of a failover in progress: Redis's state, not the push's
        except ResponseError as exc:
            raise PushRefusedError(f"{routing_key} {message_id}: {exc!r}") from exc
