"""Deleting an account on auth erases its data in wishlists within seconds, by the event."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, Platform

pytestmark = pytest.mark.system

API = "/api/v1"
# Every place wishlists keeps something of a user.
TRACES = """
SELECT (SELECT count(*) FROM wishlists.users WHERE id = $1)
     + (SELECT count(*) FROM wishlists.wishlists WHERE owner_id = $1)
     + (SELECT count(*) FROM wishlists.items WHERE owner_id = $1)
     + (SELECT count(*) FROM wishlists.shares WHERE owner_id = $1 OR viewer_id = $1)
     + (SELECT count(*) FROM wishlists.reservations WHERE reserver_id = $1)
"""


async def test_a_deleted_account_leaves_no_trace_and_its_viewers_are_told(
    api: Api, platform: Platform, bus: EventLog
) -> None:
    dora, olga, ann, ben = await api.users("Dora", "Olga", "Ann", "Ben")
    # Dora's own list, seen and reserved by Ann.
    doras = await api.create_list(dora, title="Dora's")
    doras_item = await api.add_item(dora, doras["id"])
    await api.make_viewer(dora, doras["id"], ann)
    assert (await api.reserve(ann, doras["id"], doras_item["id"])).status_code == 201
    # Olga's list, where Dora reserved something Ben can see.
    olgas = await api.create_list(olga, title="Olga's")
    olgas_item = await api.add_item(olga, olgas["id"], quantity=2)
    await api.make_viewer(olga, olgas["id"], dora)
    await api.make_viewer(olga, olgas["id"], ben)
    assert (await api.reserve(dora, olgas["id"], olgas_item["id"], 2)).status_code == 201

    admin = await asyncpg.connect(platform.stack.database.admin_url)
    try:
        dora_id = uuid.UUID(dora.id)
        assert await admin.fetchval(TRACES, dora_id) > 0
        started = time.monotonic()
        deleted = await api.gateway.delete(f"{API}/auth/me", headers=dora.auth)
        assert deleted.status_code == 204

        async def erased() -> bool:
            return int(await admin.fetchval(TRACES, dora_id)) == 0

        await eventually(erased, timeout=5.0, message="Dora's data is still in wishlists")
        assert time.monotonic() - started < 5.0
    finally:
        await admin.close()

    assert (await api.get_list(ann, doras["id"])).status_code == 404
    assert (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()["items"] == []
    seen_by_ben = (await api.get_list(ben, olgas["id"])).json()["items"][0]
    assert seen_by_ben["reserved_quantity"] == 0
    assert (await api.reserve(ben, olgas["id"], olgas_item["id"], 2)).status_code == 201

    def announced() -> bool:
        gone = bus.of("wishlists.wishlist_deleted.v1", lambda p: p["wishlist"]["id"] == doras["id"])
        freed = bus.of(
            "wishlists.reservation_cancelled.v1", lambda p: p["item"]["id"] == olgas_item["id"]
        )
        if not (gone and freed):
            return False
        assert [(e.payload["reason"], e.payload["recipient_ids"]) for e in gone] == [
            ("owner_deleted", [ann.id])
        ]
        assert [(e.payload["reason"], e.payload["recipient_ids"]) for e in freed] == [
            ("reserver_deleted", [ben.id])
        ]
        return True

    await eventually(announced)
