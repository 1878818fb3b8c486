"""Who may pass: the access token check and the per-client rate limits.

Every request to a service passes :func:`admit` before it is forwarded.

Rate-limit keys (one request spends from exactly one window):

- a request with a valid token spends from its user's window (``user:<sub>``),
  so people behind one NAT do not share a budget;
- any other request (public routes, missing or bad tokens) spends from its
  client address's window (``ip:<address>``, IPv6 per /64), so requests with
  made-up tokens are limited too;
- on the credential endpoints (login, register, refresh, password reset),
  rejected attempts are also counted per address (``auth-failures:<address>``);
  once a client has spent that stricter budget, its attempts get 429 before
  reaching auth.

The counters live in Redis, shared by every gateway replica. When Redis fails,
rate limiting is skipped (nginx still limits) but the revocation check is not:
a token whose revocation cannot be checked is not accepted (503).

A token's signature is checked once in its life (the verifier keeps what it
verified, :class:`wishlist_shared.jwt.VerifiedTokens`); its revocation on
every request, in the same Redis round trip as its rate limit
(:mod:`gateway.api.checkpoint`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from gateway.api import forwarded
from gateway.api.checkpoint import Checkpoint
from gateway.api.metrics import DEGRADED, REJECTIONS
from gateway.api.routing import PublicRoute
from gateway.settings import Settings
from wishlist_shared.jwt import AccessClaims, InvalidToken, SigningKeysUnreachable, TokenVerifier
from wishlist_shared.outages import RETRY_AFTER_SECONDS
from wishlist_shared.problems import Problem, ProblemType
from wishlist_shared.ratelimit import FixedWindow
from wishlist_shared.security import unauthorized

log = logging.getLogger(__name__)

RATE_LIMITED = ProblemType(429, "rate-limited", "Too Many Requests")
AUTH_UNAVAILABLE = ProblemType(503, "authentication-unavailable", "Service Unavailable")

# Statuses from auth's credential endpoints that count as a rejected attempt:
# wrong credentials or spent refresh tokens (401), an e-mail address that is
# taken (409), which would otherwise let a client enumerate accounts, and a
# password-reset token that does not work (400), so that guessing reset
# tokens is throttled like guessing passwords. None of these endpoints
# answers 400 for anything else (malformed bodies are 422).
REJECTED_ATTEMPT_STATUSES = frozenset({400, 401, 409})


@dataclass(frozen=True)
class Caller:
    """What the gateway knows about the client of one request."""

    address: str
    claims: AccessClaims | None
    credentials: bool
    """The request goes to a credential endpoint (its rejection is counted)."""


class RateLimits:
    def __init__(self, redis: Redis, prefix: str, settings: Settings) -> None:
        self.requests = FixedWindow(
            redis, f"{prefix}ratelimit:requests:", settings.rate_limit_window_seconds
        )
        self.request_limit = settings.rate_limit_requests
        self.failures = FixedWindow(
            redis, f"{prefix}ratelimit:auth-failures:", settings.auth_failure_window_seconds
        )
        self.failure_limit = settings.auth_failure_limit

    async def pass_token(self, checkpoint: Checkpoint, claims: AccessClaims, address: str) -> bool:
        """Whether the token is unrevoked; spends from its user's window, 429 once spent.

        A revoked token spends from the address's window instead, as any
        refused token does. ``RedisError`` when revocation cannot be checked.
        """
        passage = await checkpoint.pass_token(
            claims, f"user:{claims.subject}", _address_key(address)
        )
        if passage.window.exceeds(self.request_limit):
            raise _too_many("rate_limit", passage.window.retry_after)
        return not passage.revoked

    async def spend(self, key: str) -> None:
        """Counts one request for ``key``; 429 once its window is spent."""
        try:
            window = await self.requests.hit(key)
        except RedisError as exc:
            _degraded("rate_limit", exc)
            return
        if window.exceeds(self.request_limit):
            raise _too_many("rate_limit", window.retry_after)

    async def check_attempts(self, address: str) -> None:
        """429 when ``address`` has no rejected credential attempts left."""
        try:
            window = await self.failures.peek(_address_key(address))
        except RedisError as exc:
            _degraded("auth_failures", exc)
            return
        if window.count >= self.failure_limit:
            raise _too_many("auth_failures", window.retry_after)

    async def record_rejected_attempt(self, address: str) -> None:
        try:
            await self.failures.hit(_address_key(address))
        except RedisError as exc:
            _degraded("auth_failures", exc)


def _address_key(address: str) -> str:
    return f"ip:{forwarded.rate_limit_key(address)}"


def _too_many(reason: str, retry_after: int) -> Problem:
    REJECTIONS.labels(reason).inc()
    return Problem(
        RATE_LIMITED,
        f"Too many requests; retry in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def _degraded(check: str, exc: RedisError) -> None:
    DEGRADED.labels(check).inc()
    log.warning("%s skipped, Redis failed: %r", check, exc)


def unavailable() -> Problem:
    """503: what access depends on (Redis, auth's signing keys) cannot be reached."""
    REJECTIONS.labels("authentication_unavailable").inc()
    return Problem(
        AUTH_UNAVAILABLE,
        "Access tokens cannot be checked right now; try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of the first ``Authorization: Bearer`` header, if there is one.

    Of a request or of a WebSocket's handshake.
    """
    value = connection.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def admit(
    request: Request,
    public: PublicRoute | None,
    *,
    address: str,
    verifier: TokenVerifier,
    checkpoint: Checkpoint,
    limits: RateLimits,
) -> Caller:
    """Lets the request through to a service, or raises the problem that says why not."""
    address_key = _address_key(address)
    if public is not None:
        await limits.spend(address_key)
        if public.credentials:
            await limits.check_attempts(address)
        return Caller(address, None, public.credentials)
    token = bearer_token(request)
    if token is None:
        await limits.spend(address_key)
        REJECTIONS.labels("unauthenticated").inc()
        raise unauthorized()
    try:
        claims = await verifier.verify(token)
    except SigningKeysUnreachable as exc:
        # A key minted while auth was out of reach: the token may well be good.
        log.warning("signing keys unavailable: %r", exc)
        raise unavailable() from exc
    except InvalidToken as exc:
        # Debug only: under attack every request would log a line.
        log.debug("token refused: %s", exc)
        await limits.spend(address_key)
        REJECTIONS.labels("unauthenticated").inc()
        raise unauthorized(_REFUSED) from exc
    try:
        unrevoked = await limits.pass_token(checkpoint, claims, address)
    except RedisError as exc:
        # Without the revocation list a logged-out token would pass: refuse.
        log.warning("revocation list unavailable: %r", exc)
        raise unavailable() from exc
    if not unrevoked:
        REJECTIONS.labels("unauthenticated").inc()
        raise unauthorized(_REFUSED)
    return Caller(address, claims, credentials=False)


_REFUSED = "The access token is invalid, expired or revoked."
