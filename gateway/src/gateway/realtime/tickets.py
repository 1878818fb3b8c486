"""Single-use WebSocket tickets: a browser cannot set ``Authorization`` on a WebSocket.

``POST /api/v1/realtime/ticket`` (with the bearer token) stores a random
ticket in Redis for :data:`TICKET_SECONDS` with who asked and their token,
and ``GET /ws?ticket=`` takes it out again with ``GETDEL``, so a ticket
works once, on any gateway replica. The token travels along because the
relay replays missed notifications from the notifier as that user.

Only a hash of the ticket names the key: whoever can list Redis keys
learns nothing that opens a socket.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

TICKET_SECONDS = 30
# token_urlsafe(32) gives 43 characters; anything much longer is not ours and
# is refused before Redis is asked.
_MAX_TICKET_LENGTH = 64


@dataclass(frozen=True)
class Grant:
    """What a redeemed ticket vouches for."""

    user_id: str
    session_id: str | None
    expires_at: int
    token: str


class Tickets:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}gateway:ws-ticket:"

    def _key(self, ticket: str) -> str:
        return self.prefix + hashlib.sha256(ticket.encode()).hexdigest()

    async def issue(self, grant: Grant) -> str:
        ticket = secrets.token_urlsafe(32)
        value = json.dumps(
            {
                "user_id": grant.user_id,
                "session_id": grant.session_id,
                "expires_at": grant.expires_at,
                "token": grant.token,
            }
        )
        await self.redis.set(self._key(ticket), value, ex=TICKET_SECONDS)
        return ticket

    async def redeem(self, ticket: str) -> Grant | None:
        """The ticket's grant, once; None for a used, expired or unknown ticket."""
        if not ticket or len(ticket) > _MAX_TICKET_LENGTH:
            return None
        raw = await self.redis.getdel(self._key(ticket))
        if raw is None:
            return None
        data = json.loads(raw)
        return Grant(
            user_id=str(data["user_id"]),
            session_id=data["session_id"],
            expires_at=int(data["expires_at"]),
            token=str(data["token"]),
        )
