"""Events consumed through the inbox: wishlists' (notifications, invitations) and auth's
(the users projection, password resets, erasure).

Each handler claims the event's id in the inbox in the same transaction as the
notifications and their pushes, so a redelivery, or the same event reaching
two replicas, has exactly one effect; the unique (event, recipient) constraint
says the same a second time. Events of different queues come in no order: a
deleted user is remembered, so an event about them that arrives late neither
notifies them nor names them, nor brings their address back.

Emails are queued in the same transaction (:mod:`notifier.db.emails`), and
only when the channel is on (``NOTIFIER_SMTP_HOST`` set): with it off, no row
is written that nothing would ever send. Notification emails go to the
notification's recipients and no one else, so the owner-never-hears rule of
:mod:`notifier.domain.notifications` holds for email as well.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from faststream.rabbit import RabbitBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.db import concerned as who
from notifier.db import emails as email_rows
from notifier.db import locks
from notifier.db import notifications as notification_rows
from notifier.db.tables import inbox
from notifier.domain import emails as texts
from notifier.domain import notifications as rules
from notifier.domain.emails import Email
from notifier.domain.notifications import Planned
from notifier.events.batches import Batcher
from notifier.settings import Settings
from wishlist_shared.events import (
    Envelope,
    EventPayload,
    GroupInvited,
    GroupMemberAdded,
    ItemAdded,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSuggested,
    PasswordResetRequested,
    ShareInvited,
    UserDeleted,
    UserRegistered,
    UserUpdated,
    WishlistRevealed,
    WishlistRevealedV2,
    WishlistShared,
    WishlistSharedV2,
)
from wishlist_shared.inbox import claim
from wishlist_shared.messaging import subscribe

SERVICE = "notifier"
log = logging.getLogger(__name__)

P = TypeVar("P", bound=EventPayload)

NOTIFYING_TRANSACTIONS = 4
"""Notification transactions running at once, over every notification queue.

Each holds a pooled connection, waiting on the users' locks included: fewer
than the default pool (``NOTIFIER_DB_POOL_SIZE``, 10), leaving connections to
the API, the push relay and the other consumers; enough to keep both cores
busy while others wait on a round trip. The per-user locks keep per-user
order whatever the number.
"""
EVENTS_PER_TRANSACTION = 16
"""Most events a notification transaction writes (:mod:`notifier.events.batches`)."""
NOTIFICATION_WORKERS = 32
"""Handlers of one notification queue running at once.

A handler waiting for a transaction holds no connection: so many that, while
the transactions are busy, events gather into the next ones' batches.
"""
NOTIFICATION_PREFETCH = 64
"""Deliveries of one notification queue in the process, so a freed handler never waits for one."""


def _skipped(envelope: Envelope[Any], purpose: str) -> None:
    log.info(
        "event %s (%s) already handled by %s.%s; skipped",
        envelope.id,
        envelope.type,
        SERVICE,
        purpose,
    )


@dataclass(frozen=True)
class _Notifying:
    purpose: str
    envelope: Envelope[Any]
    planned: Planned

    @property
    def consumer(self) -> str:
        """Its name in the inbox."""
        return f"{SERVICE}.{self.purpose}"


@dataclass(frozen=True)
class _Written:
    event: _Notifying
    notifications: int
    mailed: int
    """Emails queued."""


class Consumers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        emails_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.mail = settings.email_enabled
        # Called after a commit that queued emails: this replica's sender looks at once.
        self.emails_queued = emails_queued
        self.batches = Batcher(
            self._notify_alone,
            self._notify_together,
            slots=NOTIFYING_TRANSACTIONS,
            most=EVENTS_PER_TRANSACTION,
        )

    async def _claim(self, session: AsyncSession, purpose: str, envelope: Envelope[Any]) -> bool:
        if await claim(session, inbox, f"{SERVICE}.{purpose}", envelope.id):
            return True
        _skipped(envelope, purpose)
        return False

    async def notify(self, purpose: str, envelope: Envelope[Any], planned: Planned) -> None:
        """Writes the event's notifications, with other events' when they arrive together."""
        await self.batches.submit(_Notifying(purpose, envelope, planned))

    async def _notify_alone(self, one: _Notifying) -> None:
        purpose, envelope, planned = one.purpose, one.envelope, one.planned
        async with self.sessions() as session, session.begin():
            concerned = [*planned.recipients, *planned.named]
            # The locks before looking for deleted users: an erasure of any of
            # them either committed already (seen by the next statement, which
            # therefore cannot be this one) or waits for this commit.
            began = await locks.claim_locking(
                session, inbox, f"{SERVICE}.{purpose}", envelope.id, concerned
            )
            if began is None:
                _skipped(envelope, purpose)
                return
            found = await who.look_up(session, concerned, email=self.mail)
            written = await self._write(session, one, found, began)
        self._written([written])

    async def _notify_together(self, batch: Sequence[_Notifying]) -> None:
        """:meth:`_notify_alone` for several events in one transaction, as :mod:`.batches` says."""
        written: list[_Written] = []
        async with self.sessions() as session, session.begin():
            concerned = {u for one in batch for u in (*one.planned.recipients, *one.planned.named)}
            claimed = await locks.claim_many_locking(
                session, inbox, [(one.consumer, one.envelope.id) for one in batch], concerned
            )
            if claimed is None:
                for one in batch:
                    _skipped(one.envelope, one.purpose)
                return
            began, to_write = claimed
            found = await who.look_up(session, concerned, email=self.mail)
            for one in batch:
                key = (one.consumer, one.envelope.id)
                # Once: the same event twice in a batch (a redelivery) is skipped.
                if key not in to_write:
                    _skipped(one.envelope, one.purpose)
                    continue
                to_write.discard(key)
                written.append(await self._write(session, one, found, began))
        self._written(written)

    async def _write(
        self, session: AsyncSession, one: _Notifying, found: who.Concerned, began: datetime
    ) -> _Written:
        """The event's notifications and pushes (and emails)."""
        envelope, planned = one.envelope, one.planned
        if found.gone:
            planned = rules.without_names_of(planned, found.gone)
        created = await notification_rows.create(
            session, envelope.id, planned, envelope.correlation_id, began
        )
        mailed = 0
        if self.mail:
            mailed = await self._mail(session, envelope.id, planned, created, found)
        return _Written(one, len(created), mailed)

    def _written(self, written: Sequence[_Written]) -> None:
        """Says, once committed, what the events did."""
        for one in written:
            log.info(
                "event %s: %d %s notifications",
                one.event.envelope.id,
                one.notifications,
                one.event.planned.kind,
            )
        if any(one.mailed for one in written):
            self.emails_queued()

    async def _mail(
        self,
        session: AsyncSession,
        event_id: uuid.UUID,
        planned: Planned,
        created: Sequence[tuple[uuid.UUID, uuid.UUID]],
        found: who.Concerned,
    ) -> int:
        """Queues the emails of the notifications just created, or keeps them for a digest.

        Only the notifications' recipients are considered (never the owner of
        the list for reservations: see :func:`rules.recipients_of`), and of
        them only those who turned the kind on (``found`` says who did, and
        where they are mailed). Returns how many were queued.
        """
        wanted, to = found.preferences, found.addresses
        queued = 0
        for recipient, notification_id in created:
            chosen = wanted.get(recipient)
            if chosen is None or planned.kind not in chosen.kinds or recipient not in to:
                continue
            if chosen.delivery == "daily":
                await email_rows.add_to_digest(session, recipient, notification_id)
                continue
            queued += await email_rows.queue(
                session,
                event_id=event_id,
                recipient=str(recipient),
                user_id=recipient,
                kind="notification",
                to_address=to[recipient],
                email=texts.notification(planned.kind, planned.data, self.settings.web_url),
            )
        return queued

    async def user_deleted(self, envelope: Envelope[UserDeleted]) -> None:
        user_id = envelope.payload.user_id
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, "user_deleted", envelope):
                return
            # Serialises with a notification or a user event for them in flight.
            await locks.lock_users(session, [user_id])
            removed = await notification_rows.forget_user(session, user_id)
            emails = await email_rows.forget_user(session, user_id)
        log.info("erased user %s: %d notifications, %d emails", user_id, removed, emails)

    async def user_changed(
        self, purpose: str, envelope: Envelope[UserRegistered] | Envelope[UserUpdated]
    ) -> None:
        """Keeps the user's address and name for emails (the newest event wins)."""
        user = envelope.payload
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, purpose, envelope):
                return
            await locks.lock_users(session, [user.user_id])
            if await notification_rows.deleted_among(session, [user.user_id]):
                log.info("event %s is about deleted user %s; ignored", envelope.id, user.user_id)
                return
            await email_rows.save_user(
                session, user.user_id, user.email, user.display_name, envelope.occurred_at
            )

    async def user_registered(self, envelope: Envelope[UserRegistered]) -> None:
        await self.user_changed("user_registered", envelope)

    async def user_updated(self, envelope: Envelope[UserUpdated]) -> None:
        await self.user_changed("user_updated", envelope)

    async def password_reset_requested(self, envelope: Envelope[PasswordResetRequested]) -> None:
        """Mails the reset link (always: it is not a notification, no preference applies)."""
        reset = envelope.payload
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, "password_reset_requested", envelope):
                return
            if not self.mail:
                log.warning("event %s: password reset not mailed (email is off)", envelope.id)
                return
            if reset.expires_at <= now:
                log.info("event %s: password reset expired before it was handled", envelope.id)
                return
            await locks.lock_users(session, [reset.user_id])
            if await notification_rows.deleted_among(session, [reset.user_id]):
                return
            queued = await email_rows.queue(
                session,
                event_id=envelope.id,
                recipient=str(reset.user_id),
                user_id=reset.user_id,
                kind="password_reset",
                to_address=reset.email,
                email=texts.password_reset(reset, self.settings.web_url, now),
                expires_at=reset.expires_at,
            )
        if queued:
            self.emails_queued()

    async def share_invited(self, envelope: Envelope[ShareInvited]) -> None:
        """Mails the invitation to an address without an account (always: no preferences)."""
        invite = envelope.payload
        await self._invite(
            envelope,
            "share_invited",
            owner_id=invite.wishlist.owner_id,
            address=invite.email,
            email=texts.invitation(invite, self.settings.web_url),
        )

    async def group_invited(self, envelope: Envelope[GroupInvited]) -> None:
        """Mails a group invitation to an address without an account, as a list's."""
        invite = envelope.payload
        await self._invite(
            envelope,
            "group_invited",
            owner_id=invite.group.owner_id,
            address=invite.email,
            email=texts.group_invitation(invite, self.settings.web_url),
        )

    async def _invite(
        self,
        envelope: Envelope[Any],
        purpose: str,
        *,
        owner_id: uuid.UUID,
        address: str,
        email: Email,
    ) -> None:
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, purpose, envelope):
                return
            if not self.mail:
                log.warning("event %s: invitation not mailed (email is off)", envelope.id)
                return
            if await notification_rows.deleted_among(session, [owner_id]):
                # Who invited is gone, and with them the list or group invited to.
                return
            queued = await email_rows.queue(
                session,
                event_id=envelope.id,
                recipient=address.strip().lower(),
                user_id=None,
                kind="invitation",
                to_address=address,
                email=email,
            )
        if queued:
            self.emails_queued()


def _handler(
    consumers: Consumers, purpose: str, plan: Callable[[P], Planned]
) -> Callable[[Envelope[P]], Awaitable[None]]:
    async def handle(envelope: Envelope[P]) -> None:
        await consumers.notify(purpose, envelope, plan(envelope.payload))

    return handle


def subscribe_all(
    broker: RabbitBroker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    emails_queued: Callable[[], None] = lambda: None,
) -> None:
    """Declares the notifier's queues, one per consumed event; call before the broker starts."""
    consumers = Consumers(sessions, settings, emails_queued)

    def direct(
        purpose: str,
        payload_type: type[P],
        handler: Callable[[Envelope[P]], Awaitable[None]],
        **concurrency: int,
    ) -> None:
        subscribe(
            broker,
            settings,
            service=SERVICE,
            purpose=purpose,
            payload_type=payload_type,
            handler=handler,
            **concurrency,
        )

    def on(purpose: str, payload_type: type[P], plan: Callable[[P], Planned]) -> None:
        direct(
            purpose,
            payload_type,
            _handler(consumers, purpose, plan),
            max_workers=NOTIFICATION_WORKERS,
            prefetch=NOTIFICATION_PREFETCH,
        )

    # v1 stays for the events published before wishlists moved to v2.
    on("wishlist_shared", WishlistShared, rules.wishlist_shared)
    on("wishlist_shared_v2", WishlistSharedV2, rules.wishlist_shared_v2)
    on("group_member_added", GroupMemberAdded, rules.added_to_group)
    on("item_suggested", ItemSuggested, rules.item_suggested)
    on("item_received", ItemReceived, rules.item_received)
    # v1 likewise, for reveals published before wishlists moved to v2.
    on("wishlist_revealed", WishlistRevealed, rules.wishlist_revealed)
    on("wishlist_revealed_v2", WishlistRevealedV2, rules.wishlist_revealed_v2)
    on("item_added", ItemAdded, rules.item_added)
    on("item_reserved", ItemReserved, rules.item_reserved)
    on("item_deleted", ItemDeleted, rules.reserved_item_removed)
    direct("user_deleted", UserDeleted, consumers.user_deleted)
    direct("user_registered", UserRegistered, consumers.user_registered)
    direct("user_updated", UserUpdated, consumers.user_updated)
    direct("password_reset_requested", PasswordResetRequested, consumers.password_reset_requested)
    direct("share_invited", ShareInvited, consumers.share_invited)
    direct("group_invited", GroupInvited, consumers.group_invited)
