"""What wishlists tells the rest of the platform: each event, its recipients, nothing more.

Events are read off the real bus (a queue of the test's own bound to the
exchange), as the notifier would receive them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, Platform, Published, User

pytestmark = pytest.mark.system

API = "/api/v1"
ITEM_SNAPSHOT_FIELDS = {
    "id",
    "title",
    "url",
    "price",
    "currency",
    "image_url",
    "quantity",
    "priority",
    "notes",
    "created_at",
    "updated_at",
}


async def _one(bus: EventLog, routing_key: str, **match: Any) -> Published:
    """The single event with that key whose payload has these values (waiting for it)."""

    def found() -> Published | None:
        hits = bus.of(routing_key, lambda p: all(_get(p, k) == v for k, v in match.items()))
        assert len(hits) <= 1, hits
        return hits[0] if hits else None

    event = await eventually(found, message=f"no {routing_key} with {match}")
    assert event is not None
    return event


def _get(payload: dict[str, Any], dotted: str) -> Any:
    value: Any = payload
    for part in dotted.split("__"):
        value = value[part]
    return value


def _ids(*users: User) -> list[str]:
    return sorted(u.id for u in users)


async def test_every_change_is_announced_to_the_viewers_and_never_to_the_owner(
    api: Api, bus: EventLog
) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner, title="Birthday", occasion_date="2026-07-01")
    wid = wishlist["id"]
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)

    shared = await _one(bus, "wishlists.wishlist_shared.v2", wishlist__id=wid, viewer_id=ann.id)
    assert shared.payload["recipient_ids"] == [ann.id]
    assert shared.payload["via"] == "email"
    assert shared.payload["wishlist"] == {
        "id": wid,
        "title": "Birthday",
        "owner_id": owner.id,
        "owner_display_name": "Olga",
        "occasion_date": "2026-07-01",
    }
    assert set(shared.body) == {"id", "type", "occurred_at", "correlation_id", "payload"}

    request_id = f"test-{uuid.uuid4().hex}"
    added = await api.gateway.post(
        f"{API}/wishlists/{wid}/items",
        json={"title": "Kite", "quantity": 2, "price": "30", "currency": "EUR"},
        headers=owner.auth | {"X-Request-ID": request_id},
    )
    item = added.json()
    event = await _one(bus, "wishlists.item_added.v1", item__id=item["id"])
    assert event.payload["recipient_ids"] == _ids(ann, ben)
    # The item as the owner's answer had it, minus what only the API adds.
    assert event.payload["item"] == {k: v for k, v in item.items() if k in ITEM_SNAPSHOT_FIELDS}
    assert set(event.payload["item"]) == ITEM_SNAPSHOT_FIELDS
    # The request's correlation id follows it into the event.
    assert event.body["correlation_id"] == request_id

    assert (await api.reserve(ann, wid, item["id"])).status_code == 201
    reserved = await _one(bus, "wishlists.item_reserved.v1", item__id=item["id"])
    assert reserved.payload["recipient_ids"] == [ben.id]
    assert reserved.payload["reserved_quantity"] == 1
    assert set(reserved.payload["item"]) == ITEM_SNAPSHOT_FIELDS
    # Who reserved is nowhere in it.
    assert ann.id not in repr(reserved.body)

    await api.gateway.patch(
        f"{API}/wishlists/{wid}/items/{item['id']}", json={"notes": "red"}, headers=owner.auth
    )
    updated = await _one(bus, "wishlists.item_updated.v1", item__id=item["id"])
    assert updated.payload["recipient_ids"] == _ids(ann, ben)
    assert updated.payload["item"]["notes"] == "red"

    await api.gateway.delete(
        f"{API}/wishlists/{wid}/items/{item['id']}/reservations/mine", headers=ann.auth
    )
    cancelled = await _one(bus, "wishlists.reservation_cancelled.v1", item__id=item["id"])
    assert cancelled.payload["recipient_ids"] == [ben.id]
    assert cancelled.payload["reserved_quantity"] == 0
    assert cancelled.payload["reason"] == "cancelled"
    assert ann.id not in repr(cancelled.body)

    await api.gateway.delete(f"{API}/wishlists/{wid}", headers=owner.auth)
    deleted = await _one(bus, "wishlists.wishlist_deleted.v1", wishlist__id=wid)
    assert deleted.payload["recipient_ids"] == _ids(ann, ben)
    assert deleted.payload["reason"] == "deleted"

    for published in bus.seen:
        assert owner.id not in published.payload.get("recipient_ids", [])
        assert owner.id not in published.payload.get("viewer_ids", [])
        assert "reserved_by_me" not in repr(published.body)


async def test_deleting_a_reserved_item_tells_its_reservers_and_only_them(
    api: Api, bus: EventLog
) -> None:
    owner, ann, ben, cid = await api.users("Olga", "Ann", "Ben", "Cid")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    item = await api.add_item(owner, wid, title="Bike", quantity=3)
    for viewer in (ann, ben, cid):
        await api.make_viewer(owner, wid, viewer)
    assert (await api.reserve(ann, wid, item["id"])).status_code == 201
    assert (await api.reserve(ben, wid, item["id"])).status_code == 201

    await api.gateway.delete(f"{API}/wishlists/{wid}/items/{item['id']}", headers=owner.auth)
    deleted = await _one(bus, "wishlists.item_deleted.v1", item__id=item["id"])
    assert deleted.payload["recipient_ids"] == _ids(ann, ben)
    assert deleted.payload["viewer_ids"] == _ids(ann, ben, cid)
    assert deleted.payload["item"]["title"] == "Bike"
    assert deleted.payload["wishlist"]["owner_display_name"] == "Olga"


async def test_joining_by_link_is_announced_to_the_new_viewer(api: Api, bus: EventLog) -> None:
    owner, guest = await api.users("Olga", "Gus")
    wishlist = await api.create_list(owner)
    token = (
        await api.gateway.post(f"{API}/wishlists/{wishlist['id']}/link", headers=owner.auth)
    ).json()["token"]
    await api.gateway.post(f"{API}/shared/{token}/join", headers=guest.auth)
    await api.gateway.post(f"{API}/shared/{token}/join", headers=guest.auth)
    joined = await _one(bus, "wishlists.wishlist_shared.v2", wishlist__id=wishlist["id"])
    assert (joined.payload["via"], joined.payload["recipient_ids"]) == ("link", [guest.id])


async def _outbox_count(platform: Platform, routing_key: str, wishlist_id: str) -> int:
    conn = await asyncpg.connect(platform.stack.database.admin_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM wishlists.outbox"
                " WHERE routing_key = $1 AND body->'payload'->'wishlist'->>'id' = $2",
                routing_key,
                wishlist_id,
            )
        )
    finally:
        await conn.close()


async def test_sharing_with_an_unregistered_address_invites_it_once(
    api: Api, bus: EventLog, platform: Platform
) -> None:
    owner = await api.user("Olga")
    wishlist = await api.create_list(owner, title="Housewarming", occasion_date="2026-09-12")
    wid = wishlist["id"]
    typed = f"  Newcomer-{uuid.uuid4().hex[:8]}@Example.COM "

    created = await api.share(owner, wid, typed)
    assert created.status_code == 201
    share = created.json()
    assert share["status"] == "pending"

    invited = await _one(bus, "wishlists.share_invited.v1", wishlist__id=wid)
    assert invited.payload == {
        "wishlist": {
            "id": wid,
            "title": "Housewarming",
            "owner_id": owner.id,
            "owner_display_name": "Olga",
            "occasion_date": "2026-09-12",
        },
        "share_id": share["id"],
        # As the share keeps it, and as the registration that activates it will spell it.
        "email": typed.strip().lower(),
    }
    assert share["email"] == invited.payload["email"]
    assert bus.of("wishlists.wishlist_shared.v2", lambda p: p["wishlist"]["id"] == wid) == []

    # Sharing again answers with the same pending share and mails nobody twice.
    again = await api.share(owner, wid, typed.upper())
    assert (again.status_code, again.json()["id"]) == (200, share["id"])
    assert await _outbox_count(platform, "wishlists.share_invited.v1", wid) == 1


async def test_sharing_with_a_registered_user_sends_no_invitation(
    api: Api, bus: EventLog, platform: Platform
) -> None:
    owner, viewer = await api.users("Olga", "Vera")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]

    async def wishlists_knows_the_viewer() -> bool:
        conn = await asyncpg.connect(platform.stack.database.admin_url)
        try:
            found = await conn.fetchval(
                "SELECT count(*) FROM wishlists.users WHERE id = $1", uuid.UUID(viewer.id)
            )
        finally:
            await conn.close()
        return bool(found)

    await eventually(wishlists_knows_the_viewer, message="wishlists never heard of Vera")
    response = await api.share(owner, wid, viewer.email)
    assert response.status_code == 201
    assert response.json()["status"] == "active"

    await _one(bus, "wishlists.wishlist_shared.v2", wishlist__id=wid, viewer_id=viewer.id)
    # Written in the share's transaction, so it would be there by now.
    assert await _outbox_count(platform, "wishlists.share_invited.v1", wid) == 0
    assert await _outbox_count(platform, "wishlists.wishlist_shared.v2", wid) == 1
