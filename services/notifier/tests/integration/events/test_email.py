"""Email, end to end inside the notifier: events in, queued rows, SMTP out to a real sink.

The consumers and the mailer run in this process on a fresh database of their
own, talking SMTP to :class:`SmtpSink`; each step (an event handled, a batch
sent, a digest made) is called by the test, so nothing waits on a timer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifier.db import emails as email_rows
from notifier.domain import notifications as rules
from notifier.domain.emails import EmailPreferences
from notifier.events.consumers import Consumers
from notifier.events.mailer import Mailer
from notifier.settings import Settings
from wishlist_shared.db import engine as db
from wishlist_shared.events import (
    Envelope,
    GroupInvited,
    GroupRef,
    ItemAdded,
    ItemReserved,
    ItemSnapshot,
    ItemSuggested,
    PasswordResetRequested,
    ShareInvited,
    UserDeleted,
    UserRegistered,
    UserUpdated,
    WishlistRef,
)
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.plugin import MakeDatabase
from wishlist_shared.testing.smtp import SmtpSink
from wishlist_shared.testing.snapshots import item_snapshot

WEB = "http://web.test"


@dataclass
class Person:
    id: uuid.UUID
    name: str
    email: str


@dataclass
class Mail:
    """The notifier's consumers and mailer on a database of this test's own."""

    consumers: Consumers
    mailer: Mailer
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    sink: SmtpSink

    async def person(
        self, name: str, *, kinds: tuple[str, ...] = (), daily: bool = False
    ) -> Person:
        who = Person(uuid.uuid4(), name, f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com")
        await self.consumers.user_registered(
            Envelope.wrap(
                UserRegistered(
                    user_id=who.id,
                    email=who.email,
                    display_name=name,
                    created_at=datetime.now(UTC),
                )
            )
        )
        if kinds:
            chosen = EmailPreferences.model_validate(
                {"kinds": kinds, "delivery": "daily" if daily else "immediate"}
            )
            async with self.sessions() as session, session.begin():
                await email_rows.save_preferences(session, who.id, chosen, 3600)
        return who

    async def notify(self, envelope: Envelope[Any]) -> None:
        payload = envelope.payload
        if isinstance(payload, ItemAdded):
            await self.consumers.notify("item_added", envelope, rules.item_added(payload))
        elif isinstance(payload, ItemReserved):
            await self.consumers.notify("item_reserved", envelope, rules.item_reserved(payload))
        elif isinstance(payload, ItemSuggested):
            await self.consumers.notify("item_suggested", envelope, rules.item_suggested(payload))
        else:
            raise AssertionError(f"not a notification event: {payload!r}")

    async def send_all(self) -> None:
        """Sends every email due now."""
        while await self.mailer.send_due():
            pass

    async def deliveries(self, **where: Any) -> list[Any]:
        clause = " AND ".join(f"{k} = :{k}" for k in where) or "true"
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(f"SELECT * FROM notifier.email_deliveries WHERE {clause}"),  # noqa: S608
                where,
            )
            return list(result)

    async def sql(self, statement: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(statement), params)


@pytest.fixture
async def mail(make_database: MakeDatabase, smtp_sink: SmtpSink) -> AsyncIterator[Mail]:
    database = await make_database(["notifier"])
    settings = Settings(
        database_url=database.urls["notifier"],
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_timeout_seconds=5,
        web_url=WEB,
        email_max_attempts=4,
        # Tiny back-off: a retry is due by the time the test asks again.
        email_backoff_seconds=0.01,
        email_backoff_max_seconds=0.05,
    )
    engine = db.create_engine(settings.database_url, "notifier-test")
    sessions = db.session_factory(engine)
    try:
        yield Mail(
            Consumers(sessions, settings), Mailer(sessions, settings), sessions, engine, smtp_sink
        )
    finally:
        await engine.dispose()


def wishlist(owner: Person, title: str = "Birthday") -> WishlistRef:
    return WishlistRef(
        id=uuid.uuid4(),
        title=title,
        owner_id=owner.id,
        owner_display_name=owner.name,
        occasion_date=None,
    )


def item(title: str = "Kite") -> ItemSnapshot:
    return item_snapshot(title, quantity=2)


def reset_for(
    who: Person, *, expires_in: timedelta = timedelta(minutes=30)
) -> PasswordResetRequested:
    return PasswordResetRequested(
        user_id=who.id,
        email=who.email,
        display_name=who.name,
        reset_token=f"tok-{uuid.uuid4().hex}",
        expires_at=datetime.now(UTC) + expires_in,
    )


async def test_an_enabled_notification_is_mailed_once_with_a_stable_message_id(mail: Mail) -> None:
    owner, viewer = await mail.person("Olga"), await mail.person("Vera", kinds=("item_added",))
    event = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item("Scarf"), recipient_ids=(viewer.id,))
    )
    await mail.notify(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for(viewer.email)
    assert received.subject == "New on \u201cBirthday\u201d: Scarf"
    assert received.recipients == (viewer.email,)
    (row,) = await mail.deliveries(event_id=event.id)
    assert received.message_id == f"<{row.id}@localhost>"
    assert (row.status, row.attempts) == ("sent", 1)
    # Sent rows are never claimed again.
    await mail.send_all()
    assert len(mail.sink.to(viewer.email)) == 1


async def test_a_refused_email_is_retried_until_accepted_and_arrives_once(mail: Mail) -> None:
    owner, viewer = await mail.person("Olga"), await mail.person("Vera", kinds=("item_added",))
    mail.sink.refuse_next(2)
    event = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,))
    )
    await mail.notify(event)

    async def sent() -> bool:
        await mail.send_all()
        (row,) = await mail.deliveries(event_id=event.id)
        return bool(row.status == "sent")

    await eventually(sent, timeout=10, message="never sent")
    assert mail.sink.refused == 2
    assert len(await mail.sink.wait_for(viewer.email)) == 1
    (row,) = await mail.deliveries(event_id=event.id)
    assert row.attempts == 3
    assert row.last_error is None


async def test_an_email_is_given_up_after_its_attempts(mail: Mail) -> None:
    owner, viewer = await mail.person("Olga"), await mail.person("Vera", kinds=("item_added",))
    mail.sink.refuse_next(10)
    event = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,))
    )
    await mail.notify(event)

    async def given_up() -> bool:
        await mail.send_all()
        (row,) = await mail.deliveries(event_id=event.id)
        return bool(row.status == "failed")

    await eventually(given_up, timeout=10, message="never given up")
    (row,) = await mail.deliveries(event_id=event.id)
    assert row.attempts == 4
    assert "451" in row.last_error
    assert mail.sink.refused == 4
    assert mail.sink.to(viewer.email) == []


async def test_a_redelivered_event_mails_nobody_twice(mail: Mail) -> None:
    owner, viewer = await mail.person("Olga"), await mail.person("Vera", kinds=("item_added",))
    event = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,))
    )
    await mail.notify(event)
    await mail.send_all()
    await mail.notify(event)
    await mail.send_all()
    assert len(await mail.sink.wait_for(viewer.email)) == 1
    assert len(await mail.deliveries(event_id=event.id)) == 1


async def test_kinds_not_enabled_and_users_without_preferences_get_no_email(mail: Mail) -> None:
    owner = await mail.person("Olga")
    silent = await mail.person("Sam")
    picky = await mail.person("Pia", kinds=("item_reserved",))
    event = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(silent.id, picky.id))
    )
    await mail.notify(event)
    await mail.send_all()
    assert await mail.deliveries(event_id=event.id) == []
    assert mail.sink.messages == []


async def test_the_owner_gets_no_reservation_email_even_when_named_and_subscribed(
    mail: Mail,
) -> None:
    everything = ("wishlist_shared", "item_added", "item_reserved", "reserved_item_removed")
    owner = await mail.person("Olga", kinds=everything)
    other = await mail.person("Otto", kinds=everything)
    event = Envelope.wrap(
        ItemReserved(
            wishlist=wishlist(owner),
            item=item("Telescope"),
            reserved_quantity=1,
            recipient_ids=(owner.id, other.id),
        )
    )
    await mail.notify(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for(other.email)
    assert received.subject == "Someone reserved Telescope on \u201cBirthday\u201d"
    assert mail.sink.to(owner.email) == []
    assert [r.recipient for r in await mail.deliveries(event_id=event.id)] == [str(other.id)]


async def test_a_deleted_user_is_mailed_nothing_and_a_late_registration_does_not_bring_them_back(
    mail: Mail,
) -> None:
    owner, viewer = await mail.person("Olga"), await mail.person("Vera", kinds=("item_added",))
    # An email still queued when they go is erased with them.
    mail.sink.refuse_next(1)
    queued = Envelope.wrap(
        ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,))
    )
    await mail.notify(queued)
    assert await mail.mailer.send_due() == 1
    assert [row.status for row in await mail.deliveries(user_id=viewer.id)] == ["pending"]

    await mail.consumers.user_deleted(Envelope.wrap(UserDeleted(user_id=viewer.id)))
    assert await mail.deliveries(user_id=viewer.id) == []
    late = UserUpdated(user_id=viewer.id, email=viewer.email, display_name="Vera")
    await mail.consumers.user_updated(Envelope.wrap(late))
    await mail.notify(
        Envelope.wrap(ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,)))
    )
    await mail.consumers.password_reset_requested(Envelope.wrap(reset_for(viewer)))
    await mail.send_all()
    assert mail.sink.to(viewer.email) == []
    async with mail.engine.connect() as conn:
        kept = await conn.scalar(
            text("SELECT count(*) FROM notifier.users WHERE user_id = :u"), {"u": viewer.id}
        )
    assert kept == 0


async def test_an_older_user_event_arriving_late_does_not_undo_a_newer_one(mail: Mail) -> None:
    owner = await mail.person("Olga")
    viewer = await mail.person("Vera", kinds=("item_added",))
    newer = Envelope.wrap(
        UserUpdated(user_id=viewer.id, email="vera.new@example.com", display_name="V")
    )
    older = Envelope[UserUpdated](
        type=UserUpdated.routing_key,
        occurred_at=newer.occurred_at - timedelta(seconds=5),
        payload=UserUpdated(user_id=viewer.id, email="vera.old@example.com", display_name="V"),
    )
    await mail.consumers.user_updated(newer)
    await mail.consumers.user_updated(older)
    await mail.notify(
        Envelope.wrap(ItemAdded(wishlist=wishlist(owner), item=item(), recipient_ids=(viewer.id,)))
    )
    await mail.send_all()
    assert len(await mail.sink.wait_for("vera.new@example.com")) == 1
    assert mail.sink.to("vera.old@example.com") == []


async def test_a_reset_email_is_sent_and_its_body_erased(mail: Mail) -> None:
    who = await mail.person("Rita")
    reset = reset_for(who)
    event = Envelope.wrap(reset)
    await mail.consumers.password_reset_requested(event)
    await mail.consumers.password_reset_requested(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for(who.email)
    assert f"{WEB}/reset-password#token={reset.reset_token}" in received.links()
    (row,) = await mail.deliveries(event_id=event.id)
    assert (row.status, row.body_text) == ("sent", "")
    # Even where it is kept the longest, nothing of the token remains.
    assert reset.reset_token not in row.subject


async def test_a_reset_that_expired_is_never_sent_and_leaves_nothing(mail: Mail) -> None:
    who = await mail.person("Rita")
    # Expired before it was handled: not even queued.
    stale = Envelope.wrap(reset_for(who, expires_in=timedelta(seconds=-1)))
    await mail.consumers.password_reset_requested(stale)
    assert await mail.deliveries(event_id=stale.id) == []
    # Expired while it waited for a retry: given up, body erased.
    mail.sink.refuse_next(1)
    waiting = Envelope.wrap(reset_for(who))
    await mail.consumers.password_reset_requested(waiting)
    assert await mail.mailer.send_due() == 1
    await mail.sql(
        "UPDATE notifier.email_deliveries SET expires_at = now() WHERE event_id = :e", e=waiting.id
    )
    await mail.send_all()
    (row,) = await mail.deliveries(event_id=waiting.id)
    assert (row.status, row.body_text, row.last_error) == (
        "failed",
        "",
        "expired before it could be sent",
    )
    assert mail.sink.to(who.email) == []


async def test_an_invitation_goes_to_the_address_with_a_register_link(mail: Mail) -> None:
    owner = await mail.person("Ana")
    event = Envelope.wrap(
        ShareInvited(
            wishlist=wishlist(owner), share_id=uuid.uuid4(), email="New.Person@Example.com"
        )
    )
    await mail.consumers.share_invited(event)
    await mail.consumers.share_invited(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for("new.person@example.com")
    assert received.subject == "Ana shared \u201cBirthday\u201d with you"
    assert f"{WEB}/register?email=New.Person%40Example.com" in received.links()


def group_of(owner: Person, name: str = "Family") -> GroupRef:
    return GroupRef(id=uuid.uuid4(), name=name, owner_id=owner.id, owner_display_name=owner.name)


async def test_a_group_invitation_goes_once_to_the_address_with_a_register_link(
    mail: Mail,
) -> None:
    owner = await mail.person("Ana")
    event = Envelope.wrap(
        GroupInvited(
            group=group_of(owner), membership_id=uuid.uuid4(), email="New.Member@Example.com"
        )
    )
    await mail.consumers.group_invited(event)
    await mail.consumers.group_invited(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for("new.member@example.com")
    assert received.subject == "Ana invited you to the group \u201cFamily\u201d"
    assert f"{WEB}/register?email=New.Member%40Example.com" in received.links()
    (row,) = await mail.deliveries(event_id=event.id)
    assert (row.kind, row.recipient, row.user_id) == ("invitation", "new.member@example.com", None)
    # No account has the address yet: nobody is told in the app.
    async with mail.engine.connect() as conn:
        told = await conn.scalar(
            text("SELECT count(*) FROM notifier.notifications WHERE event_id = :e"),
            {"e": event.id},
        )
    assert told == 0


async def test_no_group_invitation_when_email_is_off_or_the_group_owner_is_gone(
    mail: Mail,
) -> None:
    owner = await mail.person("Ana")
    off = Consumers(mail.sessions, mail.consumers.settings.model_copy(update={"smtp_host": ""}))
    unmailed = Envelope.wrap(
        GroupInvited(group=group_of(owner), membership_id=uuid.uuid4(), email="a@example.com")
    )
    await off.group_invited(unmailed)
    assert await mail.deliveries(event_id=unmailed.id) == []

    await mail.consumers.user_deleted(Envelope.wrap(UserDeleted(user_id=owner.id)))
    orphaned = Envelope.wrap(
        GroupInvited(group=group_of(owner), membership_id=uuid.uuid4(), email="b@example.com")
    )
    await mail.consumers.group_invited(orphaned)
    assert await mail.deliveries(event_id=orphaned.id) == []
    await mail.send_all()
    assert mail.sink.messages == []


async def test_a_suggestion_is_mailed_to_subscribed_viewers_never_to_the_owner(
    mail: Mail,
) -> None:
    owner = await mail.person("Olga", kinds=("item_suggested",))
    viewer = await mail.person("Vera", kinds=("item_suggested",))
    event = Envelope.wrap(
        ItemSuggested(
            wishlist=wishlist(owner),
            item=item("Kite"),
            suggested_by_id=uuid.uuid4(),
            suggested_by_display_name="Sara",
            recipient_ids=(owner.id, viewer.id),
        )
    )
    await mail.notify(event)
    await mail.send_all()
    (received,) = await mail.sink.wait_for(viewer.email)
    assert received.subject == "Sara suggested Kite for \u201cBirthday\u201d"
    assert mail.sink.to(owner.email) == []
    assert [r.recipient for r in await mail.deliveries(event_id=event.id)] == [str(viewer.id)]


async def test_a_daily_user_gets_one_digest_per_period_and_none_when_nothing_happened(
    mail: Mail,
) -> None:
    owner = await mail.person("Olga")
    daily = await mail.person("Dora", kinds=("item_added", "item_reserved"), daily=True)
    ref = wishlist(owner, "Winter")
    for title in ("Scarf", "Gloves", "Hat"):
        await mail.notify(
            Envelope.wrap(ItemAdded(wishlist=ref, item=item(title), recipient_ids=(daily.id,)))
        )
    await mail.send_all()
    assert mail.sink.to(daily.email) == []  # nothing before the period ends

    async def end_period() -> None:
        await mail.sql(
            "UPDATE notifier.email_preferences SET next_digest_at = now() WHERE user_id = :u",
            u=daily.id,
        )

    await end_period()
    assert await mail.mailer.make_digests() == 1
    await mail.send_all()
    (digest,) = await mail.sink.wait_for(daily.email)
    assert digest.subject == "Your wishlists digest: 3 updates"
    body = digest.text
    assert body.index("Scarf") < body.index("Gloves") < body.index("Hat")

    # The next period: nothing happened, so nothing is sent, and the one after goes on.
    await end_period()
    assert await mail.mailer.make_digests() == 1
    await mail.send_all()
    assert len(mail.sink.to(daily.email)) == 1
    async with mail.engine.connect() as conn:
        next_at = await conn.scalar(
            text("SELECT next_digest_at FROM notifier.email_preferences WHERE user_id = :u"),
            {"u": daily.id},
        )
    assert next_at > datetime.now(UTC) + timedelta(minutes=59)
    assert await mail.mailer.make_digests() == 0
