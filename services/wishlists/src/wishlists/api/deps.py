"""Dependencies every route reuses, declared once as ``Annotated`` aliases."""

# Dependencies are ``async def`` even when they await nothing: FastAPI runs a
# plain ``def`` in a worker thread, a thread hop on every request.

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.security import Claims
from wishlists.api.runtime import Runtime
from wishlists.domain.errors import InvalidCursor
from wishlists.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, PageRequest

__all__ = ["Claims", "DbSession", "PageParams", "RuntimeDep"]


async def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]
"""A session for the request; routes open transactions with ``wishlists.db.scope``."""


async def get_page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PageRequest:
    try:
        after = Cursor.decode(cursor) if cursor is not None else None
    except InvalidCursor as exc:
        # The same 422 as any other malformed parameter, naming it.
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": str(exc), "type": "value_error"}]
        ) from exc
    return PageRequest(limit=limit, after=after)


PageParams = Annotated[PageRequest, Depends(get_page)]
"""``?limit=`` (1 to 200, default 50) and ``?cursor=`` of every list endpoint."""
