"""Sends the queued emails over SMTP, and turns daily users' waiting notifications into digests.

Any number of replicas run both loops. The sender claims due rows with
``FOR UPDATE SKIP LOCKED`` in a transaction that only counts the attempt and
leases the row (:func:`notifier.db.emails.claim_due`), talks to the SMTP
server with no transaction open, then records the outcome in a second short
transaction. Holding the row lock across the SMTP conversation would have
been simpler but ties a database connection to a slow remote server for up
to the SMTP timeout, per email; the lease keeps pool and locks free.

The price of either way is the same: a process that dies after the server
accepted an email but before the outcome was recorded sends it again once the
lease ends (SMTP has no way to ask "did you get it?"). The repeat carries the
same ``Message-ID``, derived from the row's id, which lets receiving systems
and people recognise it. A row marked sent is never claimed again.

Failures: a connection error, a timeout or a 4xx reply is retried with
exponential back-off and jitter (:func:`notifier.domain.emails.backoff`) until
``email_max_attempts``; a 5xx reply about the recipient or the message is
final at once. Given-up emails stay in the table, status ``failed``, with
their last error, for an operator (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

import aiosmtplib
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.db import emails as rows
from notifier.domain import emails as texts
from notifier.settings import Settings

log = logging.getLogger(__name__)

EMAILS_SENT = Counter("notifier_emails_sent", "Emails the SMTP server accepted", ["kind"])
EMAIL_ATTEMPT_FAILURES = Counter(
    "notifier_email_attempt_failures",
    "Attempts to send an email that failed (it is retried unless given up)",
    ["kind"],
)
EMAILS_GIVEN_UP = Counter(
    "notifier_emails_failed",
    "Emails given up: attempts spent, refused for good, or expired (status failed)",
    ["kind"],
)

DIGEST_NAMESPACE = uuid.UUID("5b0d7c5e-8f0e-4c55-9d8c-2a1e2f6f7a10")
"""Digests have no causing event: their dedupe key is derived from (user, period)."""
_BATCH = 20
_BACKOFF_CAP_ON_ERROR = 30.0


class PermanentFailure(Exception):  # noqa: N818 - named for the condition
    """The SMTP server refused the email for good: trying again cannot help."""


def message_for(delivery: rows.Due, sender: str) -> EmailMessage:
    """The email of one delivery; its ``Message-ID`` is the same at every attempt."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.to_address
    # A title typed with a line break must not end the header (nor add one).
    message["Subject"] = " ".join(delivery.subject.split())
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = _domain_of(sender)
    message["Message-ID"] = f"<{delivery.id}@{domain}>"
    # Tells autoresponders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(delivery.body_text)
    return message


def _domain_of(sender: str) -> str:
    addresses = getaddresses([sender])
    domain = addresses[0][1].rpartition("@")[2] if addresses else ""
    return domain or "localhost"


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)):
        return exc.code >= 500
    # Everything else (connection, timeout, 4xx, a login refused because of
    # our own configuration) may pass once the server or the settings are fixed.
    return False


class SmtpTransport:
    """Hands one message to the configured SMTP server; raises on any failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=password if s.smtp_username else None,
                use_tls=s.smtp_tls == "tls",
                start_tls=s.smtp_tls == "starttls",
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPException as exc:
            if _is_permanent(exc):
                raise PermanentFailure(str(exc)) from exc
            raise


Send = Callable[[EmailMessage], Awaitable[None]]


class Mailer:
    """The sender and the digest loop of one replica; start and stop with the app."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        send: Send | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.send = send or SmtpTransport(settings).send
        # A lease outlasting the slowest possible attempt (each SMTP step may
        # take the timeout; a handful of steps per email).
        self.lease = 6 * settings.smtp_timeout_seconds + 30
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Looks for due emails now (this replica just queued some)."""
        self._wake.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(
                self._loop("sender", self.send_due, self._wake), name="email-sender"
            ),
            asyncio.create_task(
                self._loop("digest", self.make_digests, self._stopping), name="email-digests"
            ),
        ]

    async def stop(self, timeout: float = 10.0) -> None:
        """Stops after the email being sent; an unfinished one is sent again after its lease."""
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        self._stopping.set()
        self._wake.set()
        await asyncio.wait(tasks, timeout=timeout)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def send_due(self) -> int:
        """Gives up expired emails, then sends up to a batch of due ones; returns how many tried."""
        async with self.sessions() as session, session.begin():
            expired = await rows.expire(session)
        for delivery_id, kind in expired:
            EMAILS_GIVEN_UP.labels(kind).inc()
            log.warning("email %s (%s) expired before it could be sent", delivery_id, kind)
        async with self.sessions() as session, session.begin():
            due = await rows.claim_due(session, _BATCH, self.lease)
        for delivery in due:
            if self._stopping.is_set():
                # Claimed but not tried: due again when its lease ends, one
                # attempt spent (bounded shutdowns cannot spend them all).
                break
            await self._attempt(delivery)
        return len(due)

    async def _attempt(self, delivery: rows.Due) -> None:
        s = self.settings
        try:
            await self.send(message_for(delivery, s.email_from))
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            EMAIL_ATTEMPT_FAILURES.labels(delivery.kind).inc()
            final = isinstance(exc, PermanentFailure) or delivery.attempts >= s.email_max_attempts
            retry_in = (
                None
                if final
                else texts.backoff(
                    delivery.attempts, s.email_backoff_seconds, s.email_backoff_max_seconds
                )
            )
            async with self.sessions() as session, session.begin():
                await rows.mark_failed(session, delivery.id, repr(exc), retry_in)
            if retry_in is None:
                EMAILS_GIVEN_UP.labels(delivery.kind).inc()
                log.error(
                    "email %s (%s) given up after %d attempts: %r",
                    delivery.id,
                    delivery.kind,
                    delivery.attempts,
                    exc,
                )
            else:
                log.warning(
                    "email %s (%s) attempt %d failed, retrying in %.0fs: %r",
                    delivery.id,
                    delivery.kind,
                    delivery.attempts,
                    retry_in,
                    exc,
                )
            return
        async with self.sessions() as session, session.begin():
            await rows.mark_sent(session, delivery.id)
        EMAILS_SENT.labels(delivery.kind).inc()
        log.info("email %s (%s) sent", delivery.id, delivery.kind)

    async def make_digests(self) -> int:
        """Queues the digest of every user whose period ended; returns how many were due."""
        s = self.settings
        interval = timedelta(seconds=s.email_digest_interval_seconds)
        async with self.sessions() as session, session.begin():
            due = await rows.claim_due_digests(session, _BATCH)
            now = datetime.now(UTC)
            for digest in due:
                entries = await rows.take_digest_entries(session, digest.user_id, digest.kinds)
                address = (await rows.addresses(session, [digest.user_id])).get(digest.user_id)
                if entries and address:
                    await rows.queue(
                        session,
                        # One per user and period, whichever replica makes it.
                        event_id=uuid.uuid5(
                            DIGEST_NAMESPACE, f"{digest.user_id}:{digest.due_at.isoformat()}"
                        ),
                        recipient=str(digest.user_id),
                        user_id=digest.user_id,
                        kind="digest",
                        to_address=address,
                        email=texts.digest(entries, s.web_url),
                    )
                next_at: datetime | None = None
                if digest.daily:
                    # Periods keep their rhythm; after downtime, the next one starts now.
                    next_at = digest.due_at + interval
                    if next_at <= now:
                        next_at = now + interval
                await rows.plan_next_digest(session, digest.user_id, next_at)
                log.info(
                    "digest of user %s: %d entries%s",
                    digest.user_id,
                    len(entries),
                    "" if entries else " (nothing to send)",
                )
        if due:
            self.wake()
        return len(due)

    async def _loop(
        self, name: str, step: Callable[[], Awaitable[int]], wake: asyncio.Event
    ) -> None:
        failures = 0
        while not self._stopping.is_set():
            # Cleared before looking, so a wake-up during the step is not lost.
            wake.clear()
            try:
                done = await step()
            except Exception:  # never give up: the rows wait in the database
                failures += 1
                delay = min(_BACKOFF_CAP_ON_ERROR, 0.5 * 2 ** (failures - 1))
                log.warning(
                    "email %s failed (%d in a row); retrying in %.1fs",
                    name,
                    failures,
                    delay,
                    exc_info=failures == 1,
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stopping.wait()
                continue
            failures = 0
            if done >= _BATCH:
                continue  # a full batch: there is probably more waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.email_poll_seconds):
                    await wake.wait()
