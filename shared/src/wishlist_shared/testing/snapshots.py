"""Event parts as the tests of every service build them: valid, plain, with what a test changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from wishlist_shared.events import ItemSnapshot


def item_snapshot(title: str = "Kite", **changes: Any) -> ItemSnapshot:
    """An item as an event carries it: one wanted, no price, link or notes but for ``changes``."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "title": title,
        "url": None,
        "price": None,
        "currency": None,
        "image_url": None,
        "quantity": 1,
        "priority": 3,
        "notes": None,
        "created_at": now,
        "updated_at": now,
    }
    return ItemSnapshot(**(fields | changes))
