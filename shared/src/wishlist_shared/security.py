"""The FastAPI dependency that turns ``Authorization: Bearer`` into verified claims.

Every service uses it on its authenticated routes, so a request that slipped
past the gateway is still checked: signature and claims (once per token, then
kept until it expires), and the revocation list (on every request).
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from wishlist_shared.jwt import (
    AccessClaims,
    InvalidToken,
    JWKSClient,
    TokenVerifier,
    VerifiedTokens,
)
from wishlist_shared.problems import Problem, ProblemType
from wishlist_shared.revocation import RevocationList
from wishlist_shared.settings import ProcessSettings

UNAUTHORIZED = ProblemType(401, "unauthorized", "Unauthorized")
VERIFIED_TOKENS = 10_000
"""Access tokens a process keeps verified (LRU, a few MiB): each signature is checked once."""
_bearer = HTTPBearer(auto_error=False)


class TokenChecker:
    def __init__(self, verifier: TokenVerifier, revocations: RevocationList) -> None:
        self.verifier = verifier
        self.revocations = revocations

    async def check(self, token: str) -> AccessClaims:
        """Claims of a valid, unrevoked token; :class:`InvalidToken` otherwise."""
        claims = await self.verifier.verify(token)
        if await self.revocations.is_revoked(claims):
            raise InvalidToken("token revoked")
        return claims


def jwks_token_checker(
    settings: ProcessSettings,
    redis: Redis,
    http: httpx.AsyncClient,
    *,
    jwks_url: str,
    max_age: float,
    min_refetch_interval: float,
) -> TokenChecker:
    """A checker whose keys come from auth's JWKS: what every service but auth uses."""
    jwks = JWKSClient(jwks_url, http, max_age=max_age, min_refetch_interval=min_refetch_interval)
    return TokenChecker(
        TokenVerifier(
            jwks,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache=VerifiedTokens(VERIFIED_TOKENS),
        ),
        RevocationList(redis, settings.redis_prefix),
    )


def unauthorized(detail: str = "A valid access token is required.") -> Problem:
    return Problem(UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def require_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    checker: TokenChecker = request.app.state.token_checker
    try:
        claims = await checker.check(credentials.credentials)
    except InvalidToken as exc:
        raise unauthorized("The access token is invalid, expired or revoked.") from exc
    request.state.claims = claims
    return claims


Claims = Annotated[AccessClaims, Depends(require_claims)]
"""Route parameter type for authenticated routes; the app must set ``state.token_checker``."""
