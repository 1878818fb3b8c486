"""After the occasion: the owner's reveal, items marked received, and the archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, User

pytestmark = pytest.mark.system

API = "/api/v1"


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def _reveal(api: Api, owner: User, wid: str, **body: Any) -> Any:
    return await api.gateway.post(f"{API}/wishlists/{wid}/reveal", json=body, headers=owner.auth)


async def test_a_reveal_before_the_occasion_needs_the_owners_confirmation(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    upcoming = await api.create_list(owner, occasion_date=_day(3))
    undated = await api.create_list(owner, title="Someday")

    for wishlist in (upcoming, undated):
        refused = await _reveal(api, owner, wishlist["id"])
        assert refused.status_code == 409
        problem = refused.json()
        assert problem["type"].endswith("reveal-before-occasion")
        assert "early" in problem["detail"]
    assert _day(3) in (await _reveal(api, owner, upcoming["id"])).json()["detail"]
    # Nothing was revealed by the refusals.
    assert (await api.get_list(owner, upcoming["id"])).json()["revealed_at"] is None

    early = await _reveal(api, owner, upcoming["id"], early=True)
    assert early.status_code == 200, early.text
    assert early.json()["wishlist"]["revealed_at"] == early.json()["revealed_at"]

    # Only the owner reveals.
    await api.make_viewer(owner, undated["id"], ann)
    by_viewer = await _reveal(api, ann, undated["id"], early=True)
    assert by_viewer.status_code == 403


async def test_on_the_day_the_owner_reveals_without_confirming(api: Api) -> None:
    owner = await api.user("Olga")
    for offset in (0, -30):
        wishlist = await api.create_list(owner, occasion_date=_day(offset))
        assert (await _reveal(api, owner, wishlist["id"])).status_code == 200


async def test_the_reveal_shows_who_gave_what_and_archives_it(api: Api, bus: EventLog) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner, occasion_date=_day(-1))
    wid = wishlist["id"]
    lego = await api.add_item(owner, wid, title="Lego", quantity=3)
    book = await api.add_item(owner, wid, title="Book")
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)
    mine = (await api.reserve(ann, wid, lego["id"], 2)).json()
    await api.gateway.patch(
        f"{API}/reservations/{mine['id']}", json={"purchased": True}, headers=ann.auth
    )
    # Anonymous to Ann, not to the owner once revealed.
    assert (await api.reserve(ben, wid, lego["id"], 1)).status_code == 201

    revealed = await _reveal(api, owner, wid, next_occasion_date=_day(364))
    assert revealed.status_code == 200, revealed.text
    body = revealed.json()
    (received,) = body["received"]
    assert received["id"] == lego["id"]
    assert received["received_at"] is not None
    assert received["given_by"] == [
        {"user_id": ann.id, "display_name": "Ann", "quantity": 2, "purchased": True},
        {"user_id": ben.id, "display_name": "Ben", "quantity": 1, "purchased": False},
    ]
    assert body["suggestions"] == []
    assert body["wishlist"]["occasion_date"] == _day(364)

    # Ready for next year: the received item left the list, for everyone.
    for who in (owner, ann):
        left = (await api.get_list(who, wid)).json()["items"]
        assert [i["id"] for i in left] == [book["id"]]
    archived = await api.gateway.get(f"{API}/wishlists/{wid}/archive", headers=owner.auth)
    assert [i["given_by"] for i in archived.json()["items"]] == [received["given_by"]]
    seen_by_ann = (await api.gateway.get(f"{API}/wishlists/{wid}/archive", headers=ann.auth)).json()
    assert [i["id"] for i in seen_by_ann["items"]] == [lego["id"]]
    assert "given_by" not in seen_by_ann["items"][0]
    gone = await api.reserve(ben, wid, lego["id"])
    assert gone.status_code == 409
    assert gone.json()["type"].endswith("item-received")

    def announced() -> list[Any]:
        return bus.of("wishlists.wishlist_revealed.v2", lambda p: p["wishlist"]["id"] == wid)

    await eventually(announced, message="no wishlist_revealed event")
    (event,) = announced()
    assert event.payload["recipient_ids"] == sorted([ann.id, ben.id])
    assert event.payload["received_count"] == 1
    assert event.payload["received_sample"] == [{"id": lego["id"], "title": lego["title"]}]


async def test_after_a_reveal_new_reservations_are_hidden_again(api: Api) -> None:
    owner, ann = await api.users("Olga", "Ann")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    book = await api.add_item(owner, wid, title="Book")
    await api.make_viewer(owner, wid, ann)
    assert (await _reveal(api, owner, wid, early=True)).status_code == 200
    before = (await api.get_list(owner, wid)).content
    assert (await api.reserve(ann, wid, book["id"])).status_code == 201
    assert (await api.get_list(owner, wid)).content == before
    archive = await api.gateway.get(f"{API}/wishlists/{wid}/archive", headers=owner.auth)
    assert archive.json()["items"] == []


async def test_marking_received_answers_the_owner_alike_and_tells_the_reservers(
    api: Api, bus: EventLog
) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    taken = await api.add_item(owner, wid, title="Taken")
    free = await api.add_item(owner, wid, title="Free")
    await api.make_viewer(owner, wid, ann)
    await api.make_viewer(owner, wid, ben)
    assert (await api.reserve(ann, wid, taken["id"])).status_code == 201

    def strip(body: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in body.items()
            if k not in ("id", "title", "created_at", "updated_at", "received_at")
        }

    answers = []
    for item in (taken, free):
        answer = await api.gateway.post(
            f"{API}/wishlists/{wid}/items/{item['id']}/received", headers=owner.auth
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["received_at"] is not None
        answers.append(strip(answer.json()))
    assert answers[0] == answers[1]
    again = await api.gateway.post(
        f"{API}/wishlists/{wid}/items/{taken['id']}/received", headers=owner.auth
    )
    assert again.status_code == 200

    def told(item_id: str) -> list[Any]:
        return bus.of("wishlists.item_received.v1", lambda p: p["item"]["id"] == item_id)

    await eventually(lambda: told(taken["id"]) and told(free["id"]), message="no item_received")
    assert len(told(taken["id"])) == 1  # marking it again said nothing new
    assert told(taken["id"])[0].payload["recipient_ids"] == [ann.id]
    assert told(free["id"])[0].payload["recipient_ids"] == []
    assert told(free["id"])[0].payload["viewer_ids"] == sorted([ann.id, ben.id])

    # Ann's shopping list still holds it, received.
    shopping = (await api.gateway.get(f"{API}/reservations", headers=ann.auth)).json()
    assert [r["item"]["received_at"] is not None for r in shopping["items"]] == [True]
    # A later reveal shows the owner who had reserved what they received.
    revealed = (await _reveal(api, owner, wid, early=True)).json()
    assert [
        (i["id"], [g["display_name"] for g in i["given_by"]]) for i in revealed["received"]
    ] == [(taken["id"], ["Ann"])]


async def test_strangers_find_no_reveal_or_archive(api: Api) -> None:
    owner, sam = await api.users("Olga", "Sam")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    item = await api.add_item(owner, wid)
    assert (await _reveal(api, sam, wid, early=True)).status_code == 404
    assert (
        await api.gateway.get(f"{API}/wishlists/{wid}/archive", headers=sam.auth)
    ).status_code == 404
    assert (
        await api.gateway.post(
            f"{API}/wishlists/{wid}/items/{item['id']}/received", headers=sam.auth
        )
    ).status_code == 404
