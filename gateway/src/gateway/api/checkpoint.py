"""The revocation check and the rate limit of a verified token, in one Redis round trip.

A Lua script, so that Redis does both atomically and the gateway waits once
per request: the revocation list's seal, the token's and its session's
entries, then one hit on the window the request spends from, which depends
on the outcome (the user's window, or the client address's for a revoked
token, as for any other refused token; see :mod:`gateway.api.access`).
The window is counted exactly as :meth:`FixedWindow.hit` counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from wishlist_shared.jwt import AccessClaims
from wishlist_shared.ratelimit import FixedWindow, Window
from wishlist_shared.revocation import RevocationList, RevocationListIncomplete

# KEYS: the seal, the user's window, the address's window, then the revocation
# entries of the token (and of its session). ARGV: the window's length.
# An incomplete list counts nothing: the request is refused with 503 before
# any window, as when Redis cannot be reached.
_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, 0, 0}
end
local revoked = 0
if redis.call('EXISTS', unpack(KEYS, 4)) > 0 then
  revoked = 1
end
local window = KEYS[2]
if revoked == 1 then
  window = KEYS[3]
end
local count = redis.call('INCR', window)
redis.call('EXPIRE', window, ARGV[1], 'NX')
return {revoked, count, redis.call('TTL', window)}
"""


@dataclass(frozen=True)
class Passage:
    revoked: bool
    window: Window
    """The window this request spent from: the user's, or the address's when revoked."""


class Checkpoint:
    def __init__(self, redis: Redis, revocations: RevocationList, requests: FixedWindow) -> None:
        self.revocations = revocations
        self.requests = requests
        self._script = redis.register_script(_SCRIPT)

    async def pass_token(self, claims: AccessClaims, user_key: str, address_key: str) -> Passage:
        """Checks revocation and spends one request; ``RedisError`` when Redis fails.

        :class:`RevocationListIncomplete` when Redis lost the list.
        """
        keys = [
            self.revocations.seal_key,
            self.requests.key(user_key),
            self.requests.key(address_key),
            *self.revocations.entry_keys(claims),
        ]
        result: Any = await self._script(keys=keys, args=[self.requests.seconds])
        revoked, count, ttl = (int(v) for v in result)
        if revoked < 0:
            raise RevocationListIncomplete("the revocation list in Redis is not complete")
        return Passage(bool(revoked), Window(count, max(1, ttl)))
