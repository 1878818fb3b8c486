"""Verification of the platform's access tokens against the auth service's keys.

Only one algorithm (EdDSA) is accepted, with the expected issuer and audience;
``exp`` and ``nbf`` are enforced. Keys come from a :class:`KeySource`: the
gateway and the services read auth's JWKS over HTTP (cached, refetched when a
token names an unknown ``kid``); auth itself reads its own key store.

A verifier may keep what it verified (:class:`VerifiedTokens`): the gateway
checks each token's signature once, not on every request. Only tokens that
passed are kept, each until its ``exp`` (plus the leeway), and an entry is
used only while its key source still gives out the very key that verified it:
a key taken out of the JWKS takes its tokens' entries with it at the next
refetch. Revocation is not the verifier's business and is checked on every
request (:mod:`wishlist_shared.revocation`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt as pyjwt
from jwt import PyJWK, PyJWKSet

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
LEEWAY_SECONDS = 5


class SigningKeysUnreachable(ConnectionError):  # noqa: N818 - reads as the condition
    """A token names a key not known yet, and auth's JWKS cannot be fetched to learn it.

    Not the token's fault: answered 503 with ``Retry-After`` (a ConnectionError, so
    :mod:`wishlist_shared.outages` counts it as a dependency outage), never 401,
    which would tell a client with a good token to sign in again.
    """


class InvalidToken(Exception):  # noqa: N818 - reads as the condition it reports
    """The token is not one this platform issued and still honours."""


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    token_id: str
    session_id: uuid.UUID | None
    issued_at: int
    expires_at: int

    @property
    def seconds_left(self) -> int:
        return max(0, self.expires_at - int(time.time()))


class KeySource(Protocol):
    async def key(self, kid: str) -> PyJWK | None:
        """The public key with that id, or None if there is none."""
        ...


class JWKSClient:
    """Fetches a JWKS over HTTP and keeps it; an unknown ``kid`` triggers a refetch.

    Refetches are spaced by ``min_refetch_interval`` so a flood of tokens with
    made-up key ids cannot turn into a flood of requests to auth. While auth
    cannot be reached, a key not known yet is :class:`SigningKeysUnreachable`,
    and the next request may try again after ``retry_interval``.
    """

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        max_age: float = 300.0,
        min_refetch_interval: float = 5.0,
        retry_interval: float = 0.5,
    ) -> None:
        self.url = url
        self.http = http
        self.max_age = max_age
        self.min_refetch_interval = min_refetch_interval
        self.retry_interval = retry_interval
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = float("-inf")
        self._unreachable = False
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self.max_age
        if kid in self._keys and not stale:
            return self._keys[kid]
        async with self._lock:
            since = time.monotonic() - self._fetched_at
            spacing = self.retry_interval if self._unreachable else self.min_refetch_interval
            if since >= spacing or (stale and since > self.max_age):
                await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._unreachable:
            raise SigningKeysUnreachable(f"cannot fetch {self.url} to learn key {kid!r}")
        return key

    async def _refresh(self) -> None:
        try:
            response = await self.http.get(self.url, timeout=5.0)
            response.raise_for_status()
            jwks = PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, pyjwt.PyJWKSetError, ValueError) as exc:
            # Keep the keys we had: a short auth outage must not log everyone out.
            log.warning("could not refresh JWKS from %s: %r", self.url, exc)
            self._fetched_at = time.monotonic()
            self._unreachable = True
            return
        self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
        self._fetched_at = time.monotonic()
        self._unreachable = False

    async def ready(self) -> None:
        """Raises unless the JWKS can be fetched; for readiness checks."""
        response = await self.http.get(self.url, timeout=2.0)
        response.raise_for_status()


@dataclass(frozen=True)
class _Verified:
    claims: AccessClaims
    kid: str
    key: PyJWK
    """The key object that verified the token: the entry holds while the source still gives it."""
    valid_until: float
    """The last moment (epoch seconds) the token would pass ``exp`` with the leeway."""


class VerifiedTokens:
    """The claims of tokens already verified, keyed by a hash of the token; size-capped LRU.

    The token itself is not kept (only its SHA-256), so a dump of the
    process's memory holds no usable credential from here.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str, now: float) -> _Verified | None:
        digest = self._digest(token)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if now >= entry.valid_until:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, token: str, entry: _Verified) -> None:
        digest = self._digest(token)
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        self._entries.pop(self._digest(token), None)


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        cache: VerifiedTokens | None = None,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.cache = cache

    async def verify(self, token: str) -> AccessClaims:
        cache = self.cache
        if cache is None:
            return (await self._verify(token)).claims
        entry = cache.get(token, time.time())
        # Same object, not an equal key: a refetched JWKS that still lists the
        # key makes a new object, and the token is verified once more then.
        if entry is not None and await self.keys.key(entry.kid) is entry.key:
            return entry.claims
        if entry is not None:
            cache.forget(token)
        entry = await self._verify(token)
        cache.put(token, entry)
        return entry.claims

    async def _verify(self, token: str) -> _Verified:
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        # Checked before any key lookup so that "none" and HS/RS confusion
        # never reach the signature code.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no key id")
        key = await self.keys.key(kid)
        if key is None:
            raise InvalidToken("unknown key id")
        try:
            claims: dict[str, Any] = pyjwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
            )
        except pyjwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        try:
            sid = claims.get("sid")
            access = AccessClaims(
                subject=uuid.UUID(str(claims["sub"])),
                token_id=str(claims["jti"]),
                session_id=uuid.UUID(str(sid)) if sid else None,
                issued_at=int(claims["iat"]),
                expires_at=int(claims["exp"]),
            )
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed claims") from exc
        # PyJWT refuses a token once now >= exp + leeway; so does the cache.
        return _Verified(access, kid, key, float(access.expires_at + LEEWAY_SECONDS))
