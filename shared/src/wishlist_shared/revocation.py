"""Access tokens revoked before their expiry, kept in Redis until they would expire.

Auth writes here (logout, password change, refresh-token reuse, account
deletion); the gateway and every service read here after verifying a token's
signature. A token is revoked when its own ``jti`` or its session is listed.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from wishlist_shared.jwt import LEEWAY_SECONDS, AccessClaims


class RevocationList:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _token_key(self, jti: str) -> str:
        return f"{self.prefix}revoked:jti:{jti}"

    def _session_key(self, sid: uuid.UUID) -> str:
        return f"{self.prefix}revoked:sid:{sid}"

    async def revoke_token(self, jti: str, seconds_left: int) -> None:
        # Verifiers accept a token LEEWAY_SECONDS past its exp: so must the entry last.
        await self.redis.set(self._token_key(jti), b"1", ex=max(0, seconds_left) + LEEWAY_SECONDS)

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
            await pipe.execute()

    async def is_revoked(self, claims: AccessClaims) -> bool:
        keys = [self._token_key(claims.token_id)]
        if claims.session_id is not None:
            keys.append(self._session_key(claims.session_id))
        return bool(await self.redis.exists(*keys))
