"""Queries behind email: the users projection, preferences, the delivery queue, digests.

The queue (``email_deliveries``) is written in the transaction that claims the
causing event, like notifications and their pushes. The sender takes due rows
in short transactions of their own (:func:`claim_due`, :func:`settle`); no row
lock is held while an SMTP server is being talked to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Interval, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.db.tables import (
    digest_entries,
    email_deliveries,
    email_preferences,
    notifications,
    users,
)
from notifier.domain.emails import Email, EmailKind, EmailPreferences
from notifier.domain.notifications import Kind

d = email_deliveries.c
p = email_preferences.c

PENDING, SENT, FAILED = "pending", "sent", "failed"
ERASED_AFTER_SENDING: frozenset[EmailKind] = frozenset({"password_reset"})
"""Kinds whose body holds a secret: emptied once sent, given up, or expired."""
_LAST_ERROR_MAX = 2000


def _erased_body() -> Any:
    return case((d.kind.in_(ERASED_AFTER_SENDING), ""), else_=d.body_text)


# --- users --------------------------------------------------------------------


async def save_user(
    session: AsyncSession, user_id: uuid.UUID, email: str, display_name: str, as_of: datetime
) -> None:
    """Keeps what auth said of the user, unless a later event said otherwise already."""
    stmt = insert(users).values(
        user_id=user_id, email=email, display_name=display_name, as_of=as_of
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[users.c.user_id],
            set_={
                "email": stmt.excluded.email,
                "display_name": stmt.excluded.display_name,
                "as_of": stmt.excluded.as_of,
            },
            # Registered and updated events travel on separate queues: the
            # newer one wins whichever arrives last.
            where=users.c.as_of < stmt.excluded.as_of,
        )
    )


async def addresses(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(users.c.user_id, users.c.email).where(users.c.user_id.in_(ids))
    )
    return {row.user_id: row.email for row in rows}


async def forget_user(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Erases the user's address, preferences, digest entries and emails; returns emails gone."""
    await session.execute(delete(users).where(users.c.user_id == user_id))
    await session.execute(delete(email_preferences).where(p.user_id == user_id))
    await session.execute(delete(digest_entries).where(digest_entries.c.user_id == user_id))
    # Sent ones too: their bodies hold the address and what the user was told.
    gone = await session.scalars(
        delete(email_deliveries).where(d.user_id == user_id).returning(d.id)
    )
    return len(gone.all())


# --- preferences --------------------------------------------------------------


def preferences_from_row(kinds: Sequence[str], delivery: str) -> EmailPreferences:
    return EmailPreferences.model_validate({"kinds": kinds, "delivery": delivery})


async def preferences(session: AsyncSession, user_id: uuid.UUID) -> EmailPreferences:
    row = (await session.execute(select(p.kinds, p.delivery).where(p.user_id == user_id))).first()
    return preferences_from_row(row.kinds, row.delivery) if row else EmailPreferences()


async def save_preferences(
    session: AsyncSession, user_id: uuid.UUID, chosen: EmailPreferences, digest_interval: float
) -> EmailPreferences:
    """Saves them; a first switch to daily starts the user's first digest period now.

    Switching back to immediate keeps a digest already due: what was collected
    for it is still sent, once, and then no further digest is planned.
    """
    first_digest = func.now() + bindparam(
        "interval", timedelta(seconds=digest_interval), Interval()
    )
    daily = chosen.delivery == "daily"
    stmt = insert(email_preferences).values(
        user_id=user_id,
        kinds=list(chosen.kinds),
        delivery=chosen.delivery,
        next_digest_at=first_digest if daily else None,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[p.user_id],
            set_={
                "kinds": stmt.excluded.kinds,
                "delivery": stmt.excluded.delivery,
                "next_digest_at": func.coalesce(p.next_digest_at, first_digest)
                if daily
                else p.next_digest_at,
                "updated_at": func.now(),
            },
        )
    )
    return chosen


# --- the queue ----------------------------------------------------------------


async def queue(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    recipient: str,
    user_id: uuid.UUID | None,
    kind: EmailKind,
    to_address: str,
    email: Email,
    expires_at: datetime | None = None,
) -> bool:
    """Queues one email unless this event already queued one for this recipient."""
    inserted = await session.scalar(
        insert(email_deliveries)
        .values(
            id=uuid.uuid4(),
            event_id=event_id,
            recipient=recipient,
            user_id=user_id,
            kind=kind,
            to_address=to_address,
            subject=email.subject,
            body_text=email.text,
            expires_at=expires_at,
        )
        .on_conflict_do_nothing(constraint="uq_email_deliveries_event_recipient")
        .returning(d.id)
    )
    return inserted is not None


@dataclass(frozen=True)
class Due:
    """A claimed email: this attempt is the ``attempts``-th."""

    id: uuid.UUID
    kind: str
    to_address: str
    subject: str
    body_text: str
    attempts: int


async def claim_due(session: AsyncSession, limit: int, lease: float) -> list[Due]:
    """Claims up to ``limit`` due emails for one attempt each, for ``lease`` seconds.

    The attempt is counted and the row pushed ``lease`` seconds into the
    future before any SMTP traffic, and the claiming transaction ends right
    away. Another replica skips the rows while they are locked here and,
    after commit, because they are no longer due; if this process dies
    mid-send, they become due again when the lease runs out.
    """
    due = (
        select(d.id)
        .where(
            d.status == PENDING,
            d.next_attempt_at <= func.now(),
            or_(d.expires_at.is_(None), d.expires_at > func.now()),
        )
        .order_by(d.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(email_deliveries)
        .where(d.id.in_(due.scalar_subquery()))
        .values(
            attempts=d.attempts + 1,
            next_attempt_at=func.now() + bindparam("lease", timedelta(seconds=lease), Interval()),
        )
        .returning(d.id, d.kind, d.to_address, d.subject, d.body_text, d.attempts)
    )
    return [Due(*row) for row in rows]


async def mark_sent(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    await session.execute(
        update(email_deliveries)
        .where(d.id == delivery_id, d.status == PENDING)
        .values(status=SENT, sent_at=func.now(), last_error=None, body_text=_erased_body())
    )


async def mark_failed(
    session: AsyncSession, delivery_id: uuid.UUID, error: str, retry_in: float | None
) -> None:
    """Records a failed attempt: retried in ``retry_in`` seconds, or given up when None."""
    values: dict[str, Any] = {"last_error": error[:_LAST_ERROR_MAX]}
    if retry_in is None:
        values |= {"status": FAILED, "body_text": _erased_body()}
    else:
        values["next_attempt_at"] = func.now() + bindparam(
            "retry", timedelta(seconds=retry_in), Interval()
        )
    await session.execute(
        update(email_deliveries).where(d.id == delivery_id, d.status == PENDING).values(**values)
    )


async def expire(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Gives up pending emails past their expiry (and erases what they held)."""
    rows = await session.execute(
        update(email_deliveries)
        .where(d.status == PENDING, d.expires_at <= func.now())
        .values(
            status=FAILED,
            last_error="expired before it could be sent",
            body_text=_erased_body(),
        )
        .returning(d.id, d.kind)
    )
    return [(row.id, row.kind) for row in rows]


# --- digests --------------------------------------------------------------------


async def add_to_digest(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> None:
    await session.execute(
        insert(digest_entries)
        .values(user_id=user_id, notification_id=notification_id)
        .on_conflict_do_nothing()
    )


@dataclass(frozen=True)
class DueDigest:
    user_id: uuid.UUID
    due_at: datetime
    kinds: tuple[str, ...]
    daily: bool


async def claim_due_digests(session: AsyncSession, limit: int) -> list[DueDigest]:
    """Users whose digest is due, locked until the caller's transaction ends (others skip them)."""
    rows = await session.execute(
        select(p.user_id, p.next_digest_at, p.kinds, p.delivery)
        .where(p.next_digest_at <= func.now())
        .order_by(p.next_digest_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        DueDigest(row.user_id, row.next_digest_at, tuple(row.kinds), row.delivery == "daily")
        for row in rows
    ]


async def take_digest_entries(
    session: AsyncSession, user_id: uuid.UUID, kinds: Sequence[str]
) -> list[tuple[Kind, dict[str, Any]]]:
    """Removes the user's waiting entries; returns those of ``kinds``, oldest first."""
    taken = (
        await session.scalars(
            delete(digest_entries)
            .where(digest_entries.c.user_id == user_id)
            .returning(digest_entries.c.notification_id)
        )
    ).all()
    if not taken:
        return []
    n = notifications.c
    rows = await session.execute(
        select(n.kind, n.data)
        .where(and_(n.id.in_(taken), n.recipient_id == user_id, n.kind.in_(list(kinds))))
        .order_by(n.seq)
    )
    return [(cast(Kind, row.kind), row.data) for row in rows]


async def plan_next_digest(
    session: AsyncSession, user_id: uuid.UUID, next_at: datetime | None
) -> None:
    await session.execute(
        update(email_preferences).where(p.user_id == user_id).values(next_digest_at=next_at)
    )
