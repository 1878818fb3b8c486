"""Argon2id password hashes, and the dummy check that hides which accounts exist.

Hashing takes ~0.1 s of CPU and 64 MiB by design; callers run these methods
off the event loop.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from passlib.context import CryptContext


@dataclass(frozen=True)
class Verdict:
    ok: bool
    new_hash: str | None = None
    """Set when the stored hash used weaker parameters than today's: store this one."""


# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes). A stored
# hash made with less (min_rounds, a smaller memory cost, or another variant)
# is replaced on the next successful login.
TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4


class PasswordHasher:
    def __init__(self) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__rounds=TIME_COST,
            argon2__min_rounds=TIME_COST,
            argon2__memory_cost=MEMORY_COST_KIB,
            argon2__parallelism=PARALLELISM,
        )
        # Unknown emails are checked against this, so that they cost the same
        # time as a wrong password and the answer cannot be told apart.
        self._dummy = self._context.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return str(self._context.hash(password))

    def check(self, password: str, stored: str | None) -> Verdict:
        """Whether ``password`` matches ``stored``; ``None`` (no such account) never does."""
        if stored is None:
            self._context.verify(password, self._dummy)
            return Verdict(ok=False)
        ok, new_hash = self._context.verify_and_update(password, stored)
        return Verdict(ok=bool(ok), new_hash=new_hash)
