"""Sessions and their tokens: refresh-token rotation, reuse detection, access claims.

A session is one login: a family of refresh tokens where each refresh spends
the current token and issues the next. A spent token coming back means two
parties hold the family (one of them a thief), so the whole family ends.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REFRESH_TOKEN_BYTES = 32


def new_refresh_token() -> str:
    """An opaque token with 256 bits of randomness; only its hash is ever stored."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> bytes:
    # A fast hash is enough: the token is random, not a guessable password.
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class RefreshTokenState:
    session_id: uuid.UUID
    user_id: uuid.UUID
    spent: bool
    expires_at: datetime
    session_revoked: bool


class RefreshVerdict(enum.Enum):
    ROTATE = "rotate"
    """Valid: spend it and issue the next token of the family."""
    REUSED = "reused"
    """Spent already: revoke the whole family and its access tokens."""
    EXPIRED = "expired"
    REVOKED = "revoked"


def judge_refresh(state: RefreshTokenState, now: datetime) -> RefreshVerdict:
    if state.session_revoked:
        return RefreshVerdict.REVOKED
    # Reuse is judged before expiry: an old stolen token replayed late still
    # says the family is compromised.
    if state.spent:
        return RefreshVerdict.REUSED
    if state.expires_at <= now:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.ROTATE


def access_claims(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    issuer: str,
    audience: str,
    now: int,
    ttl_seconds: int,
) -> dict[str, Any]:
    """Claims of an access token; ``sid`` lets one session's tokens be revoked together."""
    return {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
