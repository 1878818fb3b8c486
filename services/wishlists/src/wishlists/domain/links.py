"""Share-link tokens: random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128
"""Longer path segments cannot be a token; they are refused before any lookup."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    """SHA-256 of the token: a leaked database gives no working link.

    A plain hash is enough: the token has 256 bits of randomness, so there is
    nothing to guess that a slow hash would protect.
    """
    return hashlib.sha256(token.encode()).digest()


def plausible(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LENGTH
