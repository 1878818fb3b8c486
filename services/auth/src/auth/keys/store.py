"""The key store: signs access tokens with the active key and serves the public keys.

The database is the one source of truth, so that every replica and the
rotation CLI agree: the active key is read in the transaction that issues a
token (a rotation takes effect at once everywhere), decrypted private keys
are cached by id (they never change), and public keys are cached for a short
while for verification, with a lookup of any id not seen yet.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.db import keys as key_rows
from auth.domain.keys import RETIREMENT_MARGIN, still_verifies, verifies_until
from auth.keys.material import ALGORITHM, KeyCipher

log = logging.getLogger(__name__)

MAX_KID_LENGTH = 64
"""Our ids are 43-character thumbprints; a longer one is not worth a query."""


@dataclass(frozen=True)
class _Cached:
    key: PyJWK
    verifies_until: datetime | None
    fetched_at: float


def published_jwk(kid: str, public_jwk: dict[str, str]) -> dict[str, str]:
    return {**public_jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


class KeyStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: KeyCipher,
        *,
        access_ttl_seconds: int,
        cache_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.access_ttl = timedelta(seconds=access_ttl_seconds)
        self.cache_seconds = cache_seconds
        self._public: dict[str, _Cached] = {}
        self._private: dict[str, Ed25519PrivateKey] = {}

    # --- verification: the KeySource of wishlist_shared.jwt -----------------

    async def key(self, kid: str) -> PyJWK | None:
        """The public key ``kid`` while it still verifies, else ``None``."""
        if len(kid) > MAX_KID_LENGTH:
            return None
        cached = self._public.get(kid)
        if cached is None or time.monotonic() - cached.fetched_at > self.cache_seconds:
            # A lookup by primary key: a token with a made-up id costs what any
            # authenticated request costs, no more.
            async with self.sessions() as session:
                stored = await key_rows.key_by_kid(session, kid)
            if stored is None:
                self._public.pop(kid, None)
                return None
            cached = _Cached(
                key=PyJWK.from_dict(published_jwk(kid, stored.public_jwk)),
                verifies_until=verifies_until(stored.life, self.access_ttl),
                fetched_at=time.monotonic(),
            )
            self._public[kid] = cached
        # Checked on every use, so a retired key drops out on time even
        # between lookups.
        if cached.verifies_until is not None and datetime.now(UTC) >= cached.verifies_until:
            return None
        return cached.key

    async def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Every key that still verifies, read fresh: clients come here after a rotation."""
        async with self.sessions() as session:
            stored = await key_rows.all_keys(session)
        now = datetime.now(UTC)
        return {
            "keys": [
                published_jwk(k.life.kid, k.public_jwk)
                for k in stored
                if still_verifies(k.life, now, self.access_ttl)
            ]
        }

    # --- signing -------------------------------------------------------------

    async def sign(self, session: AsyncSession, claims: dict[str, Any]) -> str:
        """Signs ``claims`` with the active key, read in the caller's transaction."""
        kid = await key_rows.active_kid(session)
        if kid is None:
            # No key yet (the database was down when this process started).
            kid = await self.ensure_active()
        private_key = self._private.get(kid)
        if private_key is None:
            # Read committed: a key ensure_active just committed is visible here.
            encrypted = await key_rows.encrypted_private_key(session, kid)
            if encrypted is None:
                raise LookupError(f"signing key {kid} vanished")
            private_key = self.cipher.decrypt(encrypted)
            self._private[kid] = private_key
        return pyjwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})

    # --- the key set ---------------------------------------------------------

    async def ensure_active(self) -> str:
        """The active key's id, creating the first key if there is none."""
        async with self.sessions() as session, session.begin():
            await key_rows.lock_key_set(session)
            kid = await key_rows.active_kid(session)
            if kid is not None:
                return kid
            new = self.cipher.generate()
            await key_rows.add_key(
                session, kid=new.kid, public_jwk=new.public_jwk, private_key_pem=new.encrypted_pem
            )
            log.info("created signing key %s", new.kid)
            return new.kid

    async def rotate(self) -> tuple[str, str | None]:
        """Adds a new active key and retires the old one; returns (new kid, retired kid).

        Keys whose verification window ended are deleted on the way: nothing
        signed with them is valid any more.
        """
        async with self.sessions() as session, session.begin():
            await key_rows.lock_key_set(session)
            retired = await key_rows.retire_active(session)
            new = self.cipher.generate()
            await key_rows.add_key(
                session, kid=new.kid, public_jwk=new.public_jwk, private_key_pem=new.encrypted_pem
            )
            cutoff = datetime.now(UTC) - self.access_ttl - RETIREMENT_MARGIN
            dropped = await key_rows.delete_retired_before(session, cutoff)
        log.info(
            "rotated signing keys: %s active, %s retired, %s deleted", new.kid, retired, dropped
        )
        return new.kid, retired
