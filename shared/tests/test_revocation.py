"""The revocation list outlives the tokens it names, leeway included."""

from __future__ import annotations

import time
import uuid

import pytest
from redis.asyncio import Redis

from wishlist_shared.jwt import LEEWAY_SECONDS, AccessClaims
from wishlist_shared.revocation import RevocationList, RevocationListIncomplete, Revoked
from wishlist_shared.testing.stack import Namespace


def _claims(session: uuid.UUID | None = None) -> AccessClaims:
    now = int(time.time())
    return AccessClaims(uuid.uuid4(), uuid.uuid4().hex, session, now, now + 60)


async def test_token_revoked_at_its_expiry_stays_revoked_through_the_leeway(
    redis: Redis, namespace: Namespace
) -> None:
    revocations = RevocationList(redis, namespace.redis_prefix)
    claims = _claims()
    await revocations.revoke_token(claims.token_id, seconds_left=0)
    assert await revocations.is_revoked(claims)
    ttl = await redis.ttl(f"{namespace.redis_prefix}revoked:jti:{claims.token_id}")
    assert 0 < ttl <= LEEWAY_SECONDS


async def test_revoking_a_session_revokes_each_of_its_tokens_and_no_other(
    redis: Redis, namespace: Namespace
) -> None:
    revocations = RevocationList(redis, namespace.redis_prefix)
    session, other = uuid.uuid4(), uuid.uuid4()
    await revocations.revoke_sessions([session], seconds=900)
    assert await revocations.is_revoked(_claims(session))
    assert await revocations.is_revoked(_claims(session))
    assert not await revocations.is_revoked(_claims(other))
    assert not await revocations.is_revoked(_claims())


async def test_revocations_are_announced_on_the_channel_after_the_keys_are_written(
    redis: Redis, namespace: Namespace
) -> None:
    revocations = RevocationList(redis, namespace.redis_prefix)
    session, claims = uuid.uuid4(), _claims()
    pubsub = redis.pubsub()
    await pubsub.subscribe(revocations.channel)
    try:
        await revocations.revoke_token(claims.token_id, seconds_left=60)
        await revocations.revoke_sessions([session], seconds=900)
        announced: list[Revoked] = []
        deadline = time.monotonic() + 5
        while len(announced) < 2:
            assert time.monotonic() < deadline, f"only {announced} announced within 5 s"
            # None for the subscription's confirmation, which is skipped.
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                announced.append(Revoked.from_json(message["data"]))
    finally:
        await pubsub.aclose()
    assert announced[0].covers(claims)
    assert announced[1].covers(_claims(session))
    assert not announced[1].covers(_claims(uuid.uuid4()))


async def test_without_its_seal_the_list_refuses_to_answer_rather_than_say_not_revoked(
    redis: Redis, namespace: Namespace
) -> None:
    revocations = RevocationList(redis, namespace.redis_prefix)
    session = uuid.uuid4()
    # As after a Redis restart that kept nothing.
    await redis.delete(f"{namespace.redis_prefix}revoked:complete")
    with pytest.raises(RevocationListIncomplete):
        await revocations.is_revoked(_claims())
    assert not await revocations.is_complete()

    await revocations.restore([(session, 30)])

    assert await revocations.is_complete()
    assert await revocations.is_revoked(_claims(session))
    assert not await revocations.is_revoked(_claims())
    assert 0 < await redis.ttl(f"{namespace.redis_prefix}revoked:sid:{session}") <= 30
