"""Event contracts: the envelope every event travels in, and each event's payload.

Events are named in the past tense and versioned in their routing key
(``auth.user_registered.v1``). A change to a payload is a new class with a new
version, never an edit in place: consumers deployed earlier keep working.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from wishlist_shared import correlation


class EventPayload(BaseModel):
    """Base of every payload; subclasses set ``routing_key``."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    routing_key: ClassVar[str]


P = TypeVar("P", bound=EventPayload)


class Envelope(BaseModel, Generic[P]):
    """What travels on the bus. ``id`` is what consumers' inboxes deduplicate on."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = Field(default_factory=correlation.current)
    payload: P

    @classmethod
    def wrap(cls, payload: P) -> Envelope[P]:
        return Envelope[P](type=payload.routing_key, payload=payload)


def dump(envelope: Envelope[Any]) -> dict[str, Any]:
    return envelope.model_dump(mode="json")


# --- auth ---------------------------------------------------------------------


class UserRegistered(EventPayload):
    routing_key: ClassVar[str] = "auth.user_registered.v1"
    user_id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime


class UserUpdated(EventPayload):
    routing_key: ClassVar[str] = "auth.user_updated.v1"
    user_id: uuid.UUID
    email: str
    display_name: str


class UserDeleted(EventPayload):
    routing_key: ClassVar[str] = "auth.user_deleted.v1"
    user_id: uuid.UUID


ALL: tuple[type[EventPayload], ...] = (UserRegistered, UserUpdated, UserDeleted)
BY_ROUTING_KEY: dict[str, type[EventPayload]] = {p.routing_key: p for p in ALL}
