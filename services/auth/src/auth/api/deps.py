"""Dependencies every route reuses, declared once as ``Annotated`` aliases."""

# Dependencies are ``async def`` even when they await nothing: FastAPI runs a
# plain ``def`` in a worker thread, a thread hop on every request.

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from auth.api.runtime import Runtime
from auth.domain.throttling import IPAddress, client_address
from wishlist_shared.jwt import AccessClaims, InvalidToken
from wishlist_shared.security import Claims, TokenChecker

__all__ = ["Claims", "ClientAddress", "DbSession", "OptionalClaims", "RuntimeDep"]

_optional_bearer = HTTPBearer(auto_error=False)


async def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]
"""A session for the request; routes open their transactions with ``session.begin()``."""


async def get_client_address(request: Request, runtime: RuntimeDep) -> IPAddress | None:
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        runtime.settings.trusted_proxies,
    )


ClientAddress = Annotated[IPAddress | None, Depends(get_client_address)]
"""The caller's address: the socket peer, or what a trusted proxy says it forwarded."""


async def get_optional_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> AccessClaims | None:
    if credentials is None:
        return None
    checker = cast(TokenChecker, request.app.state.token_checker)
    try:
        return await checker.check(credentials.credentials)
    except InvalidToken:
        return None


OptionalClaims = Annotated[AccessClaims | None, Depends(get_optional_claims)]
"""Claims of a valid bearer token if one came, for routes that work without one too."""
