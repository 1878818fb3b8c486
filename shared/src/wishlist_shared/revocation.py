"""Access tokens revoked before their expiry, kept in Redis until they would expire.

Auth writes here (logout, password change, refresh-token reuse, account
deletion); the gateway and every service read here after verifying a token's
signature. A token is revoked when its own ``jti`` or its session is listed.

Each revocation is also announced on the pub/sub channel
``{prefix}revocations`` (:class:`Revoked` as JSON), so that holders of
long-lived connections (the gateway's WebSockets) can end them at once
instead of waiting for the token to expire. The announcement follows the
key in the same round trip: a listener that subscribes and then reads the
keys cannot miss a revocation.

Redis may lose everything (a restart of a Redis that keeps nothing on disk, a
failover to an empty replica). A list that is silently empty would let every
logged-out token back in, so the list carries a seal, ``{prefix}revoked:complete``,
that auth sets once the list is whole; auth keeps the revocations in PostgreSQL
too and writes them back, then the seal, whenever the seal is missing (see
``auth.revocations``). Until then :meth:`RevocationList.is_revoked` raises
:class:`RevocationListIncomplete` and verifiers refuse tokens with 503: for a
second or so after Redis comes back empty, no token passes, but no revoked one
passes either.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wishlist_shared.jwt import LEEWAY_SECONDS, AccessClaims


def revocations_channel(prefix: str) -> str:
    """The pub/sub channel on which revocations are announced."""
    return f"{prefix}revocations"


@dataclass(frozen=True)
class Revoked:
    """One announcement: these tokens and every token of these sessions are dead."""

    token_ids: frozenset[str] = frozenset()
    session_ids: frozenset[uuid.UUID] = frozenset()

    def to_json(self) -> str:
        return json.dumps(
            {
                "token_ids": sorted(self.token_ids),
                "session_ids": sorted(str(s) for s in self.session_ids),
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Revoked:
        """The announcement in ``text``; ``ValueError`` when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a revocation is a JSON object")
        token_ids = data.get("token_ids", [])
        session_ids = data.get("session_ids", [])
        if not isinstance(token_ids, list) or not isinstance(session_ids, list):
            raise ValueError("token_ids and session_ids are lists")
        return cls(
            token_ids=frozenset(str(t) for t in token_ids),
            session_ids=frozenset(uuid.UUID(str(s)) for s in session_ids),
        )

    def covers(self, claims: AccessClaims) -> bool:
        """True when the token with these claims is among the revoked."""
        return claims.token_id in self.token_ids or (
            claims.session_id is not None and claims.session_id in self.session_ids
        )


class RevocationListIncomplete(RedisError):  # noqa: N818 - reads as the condition
    """Redis does not hold the whole revocation list: it lost it and auth has not restored it."""


class RevocationList:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    @property
    def channel(self) -> str:
        return revocations_channel(self.prefix)

    def _token_key(self, jti: str) -> str:
        return f"{self.prefix}revoked:jti:{jti}"

    def _session_key(self, sid: uuid.UUID) -> str:
        return f"{self.prefix}revoked:sid:{sid}"

    @property
    def seal_key(self) -> str:
        """Present while Redis holds the whole list."""
        return f"{self.prefix}revoked:complete"

    def entry_keys(self, claims: AccessClaims) -> list[str]:
        """The keys whose presence revokes the token: its own, and its session's if it has one."""
        keys = [self._token_key(claims.token_id)]
        if claims.session_id is not None:
            keys.append(self._session_key(claims.session_id))
        return keys

    async def is_complete(self) -> bool:
        """True when the seal is there: Redis holds every revocation still in force."""
        return bool(await self.redis.exists(self.seal_key))

    async def restore(self, sessions: Sequence[tuple[uuid.UUID, int]]) -> None:
        """Writes back revoked sessions (id, seconds their tokens may still live), then seals.

        One transaction: a verifier sees either no seal or the whole list.
        """
        async with self.redis.pipeline(transaction=True) as pipe:
            for sid, seconds in sessions:
                pipe.set(self._session_key(sid), b"1", ex=max(1, seconds))
            pipe.set(self.seal_key, b"1")
            await pipe.execute()

    async def revoke_token(self, jti: str, seconds_left: int) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            # Verifiers accept a token LEEWAY_SECONDS past its exp: so must the entry last.
            pipe.set(self._token_key(jti), b"1", ex=max(0, seconds_left) + LEEWAY_SECONDS)
            pipe.publish(self.channel, Revoked(token_ids=frozenset({jti})).to_json())
            await pipe.execute()

    async def revoke_sessions(self, session_ids: list[uuid.UUID], seconds: int) -> None:
        """Revokes every access token of these sessions issued up to now.

        ``seconds`` is the access-token lifetime: no token of the session can
        outlive it, so the entry can go then.
        """
        if not session_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.set(self._session_key(sid), b"1", ex=seconds + LEEWAY_SECONDS)
            pipe.publish(self.channel, Revoked(session_ids=frozenset(session_ids)).to_json())
            await pipe.execute()

    async def is_revoked(self, claims: AccessClaims) -> bool:
        """Whether the token is revoked; :class:`RevocationListIncomplete` when unknowable."""
        # One MGET, not a pipeline of two EXISTS: the same round trip for about
        # a quarter less of the client's CPU (every authenticated request pays it).
        sealed, *entries = await self.redis.mget([self.seal_key, *self.entry_keys(claims)])
        if sealed is None:
            raise RevocationListIncomplete("the revocation list in Redis is not complete")
        return any(entry is not None for entry in entries)
