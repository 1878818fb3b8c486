"""Events consumed through the inbox: wishlists' (notifications) and auth's (erasure).

Each handler claims the event's id in the inbox in the same transaction as the
notifications and their pushes, so a redelivery, or the same event reaching
two replicas, has exactly one effect; the unique (event, recipient) constraint
says the same a second time. Events of different queues come in no order: a
deleted user is remembered, so an event about them that arrives late neither
notifies them nor names them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.rabbit import RabbitBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.db import notifications as notification_rows
from notifier.db.tables import inbox
from notifier.domain import notifications as rules
from notifier.domain.notifications import Planned
from wishlist_shared.events import (
    Envelope,
    EventPayload,
    ItemAdded,
    ItemDeleted,
    ItemReserved,
    UserDeleted,
    WishlistShared,
)
from wishlist_shared.inbox import claim
from wishlist_shared.messaging import subscribe
from wishlist_shared.settings import ServiceSettings

SERVICE = "notifier"
log = logging.getLogger(__name__)

P = TypeVar("P", bound=EventPayload)


class Consumers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _claim(self, session: AsyncSession, purpose: str, envelope: Envelope[Any]) -> bool:
        consumer = f"{SERVICE}.{purpose}"
        if await claim(session, inbox, consumer, envelope.id):
            return True
        log.info(
            "event %s (%s) already handled by %s; skipped", envelope.id, envelope.type, consumer
        )
        return False

    async def notify(self, purpose: str, envelope: Envelope[Any], planned: Planned) -> None:
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, purpose, envelope):
                return
            # Before looking for deleted users: an erasure of any of them
            # either committed already (seen below) or waits for this commit.
            await notification_rows.lock_users(session, [*planned.recipients, planned.owner_id])
            gone = await notification_rows.deleted_among(
                session, [*planned.recipients, planned.owner_id]
            )
            if planned.owner_id in gone:
                planned = rules.without_name(planned)
            if gone:
                planned = Planned(
                    planned.kind,
                    planned.owner_id,
                    tuple(r for r in planned.recipients if r not in gone),
                    planned.data,
                )
            created = await notification_rows.create(
                session, envelope.id, planned, envelope.correlation_id
            )
        log.info("event %s: %d %s notifications", envelope.id, len(created), planned.kind)

    async def user_deleted(self, envelope: Envelope[UserDeleted]) -> None:
        user_id = envelope.payload.user_id
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, "user_deleted", envelope):
                return
            removed = await notification_rows.forget_user(session, user_id)
        log.info("erased user %s: %d notifications", user_id, removed)


def _handler(
    consumers: Consumers, purpose: str, plan: Callable[[P], Planned]
) -> Callable[[Envelope[P]], Awaitable[None]]:
    async def handle(envelope: Envelope[P]) -> None:
        await consumers.notify(purpose, envelope, plan(envelope.payload))

    return handle


def subscribe_all(
    broker: RabbitBroker, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Declares the notifier's queues, one per consumed event; call before the broker starts."""
    consumers = Consumers(sessions)

    def on(purpose: str, payload_type: type[P], plan: Callable[[P], Planned]) -> None:
        subscribe(
            broker,
            settings,
            service=SERVICE,
            purpose=purpose,
            payload_type=payload_type,
            handler=_handler(consumers, purpose, plan),
        )

    on("wishlist_shared", WishlistShared, rules.wishlist_shared)
    on("item_added", ItemAdded, rules.item_added)
    on("item_reserved", ItemReserved, rules.item_reserved)
    on("item_deleted", ItemDeleted, rules.reserved_item_removed)
    subscribe(
        broker,
        settings,
        service=SERVICE,
        purpose="user_deleted",
        payload_type=UserDeleted,
        handler=consumers.user_deleted,
    )
