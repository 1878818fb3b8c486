"""Queries on signing keys; changes to the key set run under one advisory lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.db.tables import SigningKeyRecord
from auth.domain.keys import KeyLife


@dataclass(frozen=True)
class StoredKey:
    life: KeyLife
    public_jwk: dict[str, str]


async def lock_key_set(session: AsyncSession) -> None:
    """Serialises key creation and rotation across replicas until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))"))


async def active_kid(session: AsyncSession) -> str | None:
    return (
        await session.execute(
            select(SigningKeyRecord.kid).where(SigningKeyRecord.retired_at.is_(None))
        )
    ).scalar_one_or_none()


async def encrypted_private_key(session: AsyncSession, kid: str) -> bytes | None:
    return (
        await session.execute(
            select(SigningKeyRecord.private_key_pem).where(SigningKeyRecord.kid == kid)
        )
    ).scalar_one_or_none()


def _stored(record: SigningKeyRecord) -> StoredKey:
    return StoredKey(
        life=KeyLife(kid=record.kid, created_at=record.created_at, retired_at=record.retired_at),
        public_jwk=dict(record.public_jwk),
    )


async def key_by_kid(session: AsyncSession, kid: str) -> StoredKey | None:
    record = (
        await session.execute(select(SigningKeyRecord).where(SigningKeyRecord.kid == kid))
    ).scalar_one_or_none()
    return _stored(record) if record else None


async def all_keys(session: AsyncSession) -> list[StoredKey]:
    records = (
        await session.execute(select(SigningKeyRecord).order_by(SigningKeyRecord.created_at))
    ).scalars()
    return [_stored(r) for r in records]


async def add_key(
    session: AsyncSession, *, kid: str, public_jwk: dict[str, str], private_key_pem: bytes
) -> None:
    session.add(SigningKeyRecord(kid=kid, public_jwk=public_jwk, private_key_pem=private_key_pem))
    await session.flush()


async def retire_active(session: AsyncSession) -> str | None:
    return (
        await session.execute(
            update(SigningKeyRecord)
            .where(SigningKeyRecord.retired_at.is_(None))
            .values(retired_at=func.now())
            .returning(SigningKeyRecord.kid)
        )
    ).scalar_one_or_none()


async def delete_retired_before(session: AsyncSession, moment: datetime) -> list[str]:
    return list(
        (
            await session.execute(
                delete(SigningKeyRecord)
                .where(SigningKeyRecord.retired_at < moment)
                .returning(SigningKeyRecord.kid)
            )
        ).scalars()
    )
