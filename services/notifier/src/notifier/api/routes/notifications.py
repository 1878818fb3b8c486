"""The caller's notifications: pages (newest first, or oldest first after one), read state.

``?after=<id>`` is for a reconnecting socket (the gateway's relay): the
caller's notifications committed after that one, oldest first, in ``seq``
order, which for one recipient is the order of commits. An id that is not the
caller's is a 404, as for every route here.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from notifier.api.deps import Claims, DbSession
from notifier.api.schemas import NotificationPage, UnreadCount
from notifier.db import notifications as rows
from notifier.domain.errors import InvalidCursor, NotificationNotFound
from notifier.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


def _cursor(text: str) -> Cursor:
    try:
        return Cursor.decode(text)
    except InvalidCursor as exc:
        # The same 422 as any other malformed parameter, naming it.
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": str(exc), "type": "value_error"}]
        ) from exc


@router.get("", response_model=NotificationPage)
async def list_notifications(
    *,
    claims: Claims,
    db: DbSession,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    after: uuid.UUID | None = None,
) -> NotificationPage:
    """Newest first; with ``after``, those after that notification, oldest first.

    A ``cursor`` carries its own direction, so continuing needs only it (an
    ``after`` given with it is still checked to be the caller's).
    """
    async with db.begin():
        position = _cursor(cursor) if cursor is not None else None
        if after is not None:
            after_seq = await rows.seq_of(db, claims.subject, after)
            if after_seq is None:
                raise NotificationNotFound()
            if position is None:
                position = Cursor(after_seq, "oldest_first")
        direction = position.direction if position else "newest_first"
        found = await rows.page(
            db,
            claims.subject,
            direction=direction,
            beyond=position.seq if position else None,
            unread_only=unread,
            fetch=limit + 1,
        )
    shown = found[:limit]
    more = len(found) > limit
    next_cursor = Cursor(shown[-1][0], direction).encode() if more else None
    return NotificationPage(items=[n for _, n in shown], next_cursor=next_cursor)


@router.get("/unread-count", response_model=UnreadCount)
async def unread_count(claims: Claims, db: DbSession) -> UnreadCount:
    async with db.begin():
        return UnreadCount(count=await rows.unread_count(db, claims.subject))


@router.post("/read-all", status_code=status.HTTP_204_NO_CONTENT)
async def read_all(claims: Claims, db: DbSession) -> Response:
    async with db.begin():
        await rows.mark_all_read(db, claims.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def read_one(notification_id: uuid.UUID, claims: Claims, db: DbSession) -> Response:
    async with db.begin():
        if not await rows.mark_read(db, claims.subject, notification_id):
            raise NotificationNotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
