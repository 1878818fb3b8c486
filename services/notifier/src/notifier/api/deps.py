"""Dependencies every route reuses, declared once as ``Annotated`` aliases."""

# Dependencies are ``async def`` even when they await nothing: FastAPI runs a
# plain ``def`` in a worker thread, a thread hop on every request.

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.api.runtime import Runtime
from wishlist_shared.security import Claims

__all__ = ["Claims", "DbSession", "RuntimeDep"]


async def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]
"""A session for the request; routes open their transactions with ``session.begin()``."""
