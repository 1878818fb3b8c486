"""Auth's events, consumed through the inbox: the users projection, pending shares, erasure.

Each handler claims the event's id in the inbox in the same transaction as its
effect (and the events it publishes), so a redelivery, or the same event
reaching two replicas, has exactly one effect. Handlers run in the system
scope: they act for no user, and row-level security lets them see every row.

Events of different queues arrive in no particular order, so each handler
copes with the others not having happened yet: a profile carries the time of
the event that wrote it and an older one never overwrites it, and a deleted
account is remembered so that a late registration or update cannot revive it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from faststream.rabbit import RabbitBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wishlist_shared.events import Envelope, UserDeleted, UserRegistered, UserUpdated
from wishlist_shared.inbox import claim
from wishlist_shared.messaging import subscribe
from wishlist_shared.settings import ServiceSettings
from wishlists.db import groups as group_rows
from wishlists.db import items as item_rows
from wishlists.db import locks, scope, users
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.db.tables import inbox
from wishlists.domain.validation import canonical_email
from wishlists.events import group_access, publishing

SERVICE = "wishlists"
log = logging.getLogger(__name__)


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

    async def user_registered(self, envelope: Envelope[UserRegistered]) -> None:
        user = envelope.payload
        async with self.sessions() as session, scope.for_system(session):
            if not await self._claim(session, "user_registered", envelope):
                return
            await self._save_profile(session, user.user_id, user.email, user.display_name, envelope)

    async def user_updated(self, envelope: Envelope[UserUpdated]) -> None:
        user = envelope.payload
        async with self.sessions() as session, scope.for_system(session):
            if not await self._claim(session, "user_updated", envelope):
                return
            await self._save_profile(session, user.user_id, user.email, user.display_name, envelope)

    async def _save_profile(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        raw_email: str,
        display_name: str,
        envelope: Envelope[Any],
    ) -> None:
        if await users.is_deleted(session, user_id):
            log.info("event %s is about deleted user %s; ignored", envelope.id, user_id)
            return
        email = canonical_email(raw_email)
        await locks.lock_email(session, email)
        if not await users.save_profile(
            session, user_id, email, display_name, envelope.occurred_at
        ):
            # A newer profile is here already, and its event activated the
            # shares of the address that is current.
            return
        activated = await share_rows.activate_pending(session, user_id, email)
        lists = await wishlist_rows.by_ids(session, [a.wishlist_id for a in activated])
        # A new address may bring shares of lists its user sees through a group already.
        seen = await share_rows.seen_otherwise(session, user_id, activated)
        for activation in activated:
            if activation.wishlist_id in seen:
                continue
            await publishing.wishlist_shared(
                session,
                lists[activation.wishlist_id],
                share_id=activation.share_id,
                viewer_id=user_id,
                via="email",
            )
        if activated:
            log.info("activated %d pending shares for user %s", len(activated), user_id)
        await self._join_groups(session, user_id, email)

    async def _join_groups(self, session: AsyncSession, user_id: uuid.UUID, email: str) -> None:
        """Invitations of the address become the user's memberships, with the lists they give."""
        invited = await group_rows.pending_groups(session, email)
        for group_id in invited:
            await locks.lock_group(session, group_id)
        joined = await group_rows.activate_pending(session, user_id, email)
        for member_id, group_id in joined:
            group = await group_rows.one(session, group_id, user_id)
            assert group is not None  # they are a member now
            await group_access.member_joined(session, group, member_id=member_id, user_id=user_id)
        if joined:
            log.info("activated %d pending memberships for user %s", len(joined), user_id)

    async def user_deleted(self, envelope: Envelope[UserDeleted]) -> None:
        """Erases the user: their lists (with items, shares, reservations), their
        groups and memberships, their reservations and shares on others' lists,
        their profile. Tells viewers.
        """
        user_id = envelope.payload.user_id
        async with self.sessions() as session, scope.for_system(session):
            if not await self._claim(session, "user_deleted", envelope):
                return
            email = await users.email_of(session, user_id)
            if email is not None:
                # Shares to the address made from now on stay pending.
                await locks.lock_email(session, email)
            await users.forget(session, user_id)

            owned = await wishlist_rows.owned_by(session, user_id)
            viewers = await share_rows.viewers_of(session, [w.id for w in owned])
            for wishlist in owned:
                await publishing.wishlist_deleted(
                    session, wishlist, viewers=viewers.get(wishlist.id, []), reason="owner_deleted"
                )
            await wishlist_rows.delete_owned_by(session, user_id)
            # After the lists (whose viewers, group members among them, were
            # told above): the groups they own and their memberships go, under
            # each group's lock so that no list shared meanwhile gives them access.
            for group_id in await group_rows.memberships_of(session, user_id):
                await locks.lock_group(session, group_id)
            await group_rows.forget_user(session, user_id)

            held = await reservation_rows.held_by(session, user_id)
            await reservation_rows.remove_held_by(session, user_id)
            await item_rows.forget_suggester(session, user_id)
            await share_rows.remove_viewer(session, user_id)
            touched = sorted({h.wishlist_id for h in held})
            lists = await wishlist_rows.by_ids(session, touched)
            viewers = await share_rows.viewers_of(session, touched)
            left = await reservation_rows.reserved_on_items(session, [h.item.id for h in held])
            for h in held:
                await publishing.reservation_cancelled(
                    session,
                    lists[h.wishlist_id],
                    h.item,
                    reserved=left.get(h.item.id, 0),
                    viewers=viewers.get(h.wishlist_id, []),
                    reserver_id=user_id,
                    reason="reserver_deleted",
                )
        log.info("erased user %s: %d lists, %d reservations", user_id, len(owned), len(held))


def subscribe_all(
    broker: RabbitBroker, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Declares wishlists' queues, one per consumed event; call before the broker starts."""
    consumers = Consumers(sessions)
    subscribe(
        broker,
        settings,
        service=SERVICE,
        purpose="user_registered",
        payload_type=UserRegistered,
        handler=consumers.user_registered,
    )
    subscribe(
        broker,
        settings,
        service=SERVICE,
        purpose="user_updated",
        payload_type=UserUpdated,
        handler=consumers.user_updated,
    )
    subscribe(
        broker,
        settings,
        service=SERVICE,
        purpose="user_deleted",
        payload_type=UserDeleted,
        handler=consumers.user_deleted,
    )
