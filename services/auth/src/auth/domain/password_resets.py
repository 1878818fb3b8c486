"""Password-reset tokens: what is mailed, what is kept, and how long it lasts.

The token is the only proof a reset needs, so it is as strong as a refresh
token (256 random bits) and kept the same way: only its SHA-256, which is
useless to whoever reads the database. It is single use and short-lived, and
a newer one replaces every older one of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

RESET_TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedReset:
    token: str
    """Goes to the account's address (in the event), never into the database."""
    token_hash: bytes
    expires_at: datetime


def hash_reset_token(token: str) -> bytes:
    # A fast hash is enough: the token is random, not a guessable password.
    return hashlib.sha256(token.encode()).digest()


def issue_reset(now: datetime, ttl_seconds: int) -> IssuedReset:
    token = secrets.token_urlsafe(RESET_TOKEN_BYTES)
    return IssuedReset(
        token=token,
        token_hash=hash_reset_token(token),
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
