"""The inbox: a consumer applies each event once, whatever the number of deliveries."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.inbox import claim

if TYPE_CHECKING:
    from conftest import RelayDatabase


class RollbackError(Exception):
    """Raised inside a transaction to roll it back."""


async def test_first_claim_is_true_and_a_redelivery_is_false(relay_db: RelayDatabase) -> None:
    event_id = uuid.uuid4()
    async with AsyncSession(relay_db.engine) as session, session.begin():
        assert await claim(session, relay_db.inbox, "notifier.users", event_id) is True
    async with AsyncSession(relay_db.engine) as session, session.begin():
        assert await claim(session, relay_db.inbox, "notifier.users", event_id) is False


async def test_consumers_claim_the_same_event_independently(relay_db: RelayDatabase) -> None:
    event_id = uuid.uuid4()
    async with AsyncSession(relay_db.engine) as session, session.begin():
        assert await claim(session, relay_db.inbox, "wishlists.users", event_id) is True
        assert await claim(session, relay_db.inbox, "notifier.users", event_id) is True


async def test_claim_rolled_back_with_its_effect_can_be_claimed_again(
    relay_db: RelayDatabase,
) -> None:
    event_id = uuid.uuid4()

    async def claim_then_fail() -> None:
        async with AsyncSession(relay_db.engine) as session, session.begin():
            assert await claim(session, relay_db.inbox, "c", event_id) is True
            raise RollbackError

    with pytest.raises(RollbackError):
        await claim_then_fail()
    async with AsyncSession(relay_db.engine) as session, session.begin():
        assert await claim(session, relay_db.inbox, "c", event_id) is True


async def test_concurrent_claims_of_one_event_let_exactly_one_apply_it(
    relay_db: RelayDatabase,
) -> None:
    event_id = uuid.uuid4()

    async def handle(n: int) -> None:
        async with AsyncSession(relay_db.engine) as session, session.begin():
            if await claim(session, relay_db.inbox, "c", event_id):
                await session.execute(relay_db.effects.insert().values(event_id=event_id, n=n))

    await asyncio.gather(*(handle(n) for n in range(5)))
    async with relay_db.engine.connect() as conn:
        effects = await conn.scalar(select(func.count()).select_from(relay_db.effects))
    assert effects == 1
