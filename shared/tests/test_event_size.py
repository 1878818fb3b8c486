"""The size bound of events: what counts (the bytes on the bus), and the outbox refusing more."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.events import (
    MAX_EVENT_BYTES,
    Envelope,
    EventPayload,
    EventTooLargeError,
    dump,
    encode,
    encoded_size,
)
from wishlist_shared.outbox import add_event

if TYPE_CHECKING:
    from conftest import RelayDatabase


class NoteTaken(EventPayload):
    routing_key: ClassVar[str] = "test.note_taken.v1"
    text: str


def test_an_event_is_measured_as_compact_utf8_json_which_its_consumer_parses_back() -> None:
    envelope = Envelope.wrap(NoteTaken(text="gift 🎁 for Zoë\x01"))
    body = encode(dump(envelope))
    # UTF-8, not ASCII escapes: the emoji costs 4 bytes, not 12.
    assert "🎁".encode() in body
    assert b'": ' not in body
    assert b'", "' not in body
    assert encoded_size(envelope) == len(body)
    assert Envelope[NoteTaken].model_validate_json(body) == envelope
    assert json.loads(body) == dump(envelope)


async def test_add_event_refuses_an_envelope_over_the_limit_and_writes_nothing(
    relay_db: RelayDatabase,
) -> None:
    def note(size: int) -> NoteTaken:
        # The whole envelope at exactly ``size`` bytes.
        empty = encoded_size(Envelope.wrap(NoteTaken(text="")))
        return NoteTaken(text="x" * (size - empty))

    async with AsyncSession(relay_db.engine) as session, session.begin():
        fits = await add_event(session, relay_db.outbox, note(MAX_EVENT_BYTES))
    # Within the few bytes by which two timestamps' spellings may differ.
    assert MAX_EVENT_BYTES - 8 <= encoded_size(fits) <= MAX_EVENT_BYTES

    async with AsyncSession(relay_db.engine) as session, session.begin():
        with pytest.raises(EventTooLargeError, match=r"test\.note_taken\.v1"):
            await add_event(session, relay_db.outbox, note(MAX_EVENT_BYTES + 1))
        # Three-byte characters count as three: the limit is on bytes, not characters.
        with pytest.raises(EventTooLargeError):
            await add_event(
                session, relay_db.outbox, NoteTaken(text="€" * (MAX_EVENT_BYTES // 3 + 1))
            )

    async with relay_db.engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(relay_db.outbox))).scalar_one()
    assert rows == 1
