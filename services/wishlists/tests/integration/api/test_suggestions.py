"""Suggestions: viewers add items to someone else's list that its owner never sees
until the reveal — on no route, link, export or event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, Platform, User

pytestmark = pytest.mark.system

API = "/api/v1"


async def suggest(api: Api, viewer: User, wishlist_id: str, **fields: Any) -> httpx.Response:
    return await api.gateway.post(
        f"{API}/wishlists/{wishlist_id}/suggestions",
        json={"title": "A suggestion"} | fields,
        headers=viewer.auth,
    )


async def _family(api: Api) -> tuple[User, User, User, str]:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner, title="Birthday")
    await api.add_item(owner, wishlist["id"], title="Book")
    await api.make_viewer(owner, wishlist["id"], ann)
    await api.make_viewer(owner, wishlist["id"], ben)
    return owner, ann, ben, wishlist["id"]


async def test_other_viewers_see_and_reserve_a_suggestion_with_who_made_it(api: Api) -> None:
    _, ann, ben, wid = await _family(api)

    made = await suggest(api, ann, wid, title="Telescope", price="120.00", currency="EUR")
    assert made.status_code == 201, made.text
    suggestion = made.json()
    assert suggestion["suggested_by"] == {"id": ann.id, "display_name": "Ann"}
    assert suggestion["reserved_quantity"] == 0

    seen = (await api.get_list(ben, wid)).json()["items"]
    telescope = next(i for i in seen if i["id"] == suggestion["id"])
    assert telescope["suggested_by"] == {"id": ann.id, "display_name": "Ann"}
    assert next(i for i in seen if i["title"] == "Book")["suggested_by"] is None

    assert (await api.reserve(ben, wid, suggestion["id"])).status_code == 201
    again = (await api.get_list(ann, wid)).json()["items"]
    assert next(i for i in again if i["id"] == suggestion["id"])["reserved_quantity"] == 1


async def test_the_owner_finds_a_suggestion_nowhere_before_the_reveal(
    api: Api, platform: Platform
) -> None:
    owner, ann, ben, wid = await _family(api)
    link = (await api.gateway.post(f"{API}/wishlists/{wid}/link", headers=owner.auth)).json()
    own_view = (await api.get_list(owner, wid)).content
    public = (await api.gateway.get(f"{API}/shared/{link['token']}")).content

    suggestion = (await suggest(api, ann, wid, title="Secret telescope")).json()
    assert (await api.reserve(ben, wid, suggestion["id"])).status_code == 201

    # The owner's list, their public link and their export are as before.
    assert (await api.get_list(owner, wid)).content == own_view
    assert (await api.gateway.get(f"{API}/shared/{link['token']}")).content == public
    assert b"Secret telescope" not in public
    # Wishlists' part of the export, asked directly (the gateway gathers every service's).
    async with httpx.AsyncClient(base_url=platform.stack.url("wishlists")) as wishlists:
        exported = await wishlists.get(f"{API}/me/export", headers=owner.auth)
    assert exported.status_code == 200, exported.text
    assert b"Secret telescope" not in exported.content

    # Every owner route on the suggestion answers as for an item that does not exist.
    unknown = "00000000-0000-4000-8000-000000000000"
    for item_id in (suggestion["id"], unknown):
        path = f"{API}/wishlists/{wid}/items/{item_id}"
        patched = await api.gateway.patch(path, json={"title": "x"}, headers=owner.auth)
        received = await api.gateway.post(f"{path}/received", headers=owner.auth)
        deleted = await api.gateway.delete(path, headers=owner.auth)
        assert [patched.status_code, received.status_code, deleted.status_code] == [404] * 3
        assert patched.json()["detail"] == received.json()["detail"] == deleted.json()["detail"]
    # The suggester's own routes refuse the owner as they refuse any owner.
    for verb in ("patch", "delete"):
        answer = await api.gateway.request(
            verb.upper(),
            f"{API}/wishlists/{wid}/suggestions/{suggestion['id']}",
            json={"title": "x"} if verb == "patch" else None,
            headers=owner.auth,
        )
        assert answer.status_code == 403
        assert answer.json()["type"].endswith("owner-cannot-suggest")
    # The suggestion still stands for the viewers.
    ben_sees = (await api.get_list(ben, wid)).json()["items"]
    assert suggestion["id"] in {i["id"] for i in ben_sees}


async def test_the_owner_cannot_suggest_for_their_own_list(api: Api) -> None:
    owner, _, _, wid = await _family(api)
    refused = await suggest(api, owner, wid)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("owner-cannot-suggest")


async def test_strangers_cannot_suggest_and_learn_nothing(api: Api) -> None:
    _, _, _, wid = await _family(api)
    stranger = await api.user("Sam")
    refused = await suggest(api, stranger, wid)
    assert refused.status_code == 404


async def test_only_who_suggested_changes_or_deletes_it(api: Api) -> None:
    _, ann, ben, wid = await _family(api)
    suggestion = (await suggest(api, ann, wid, title="Kite")).json()
    path = f"{API}/wishlists/{wid}/suggestions/{suggestion['id']}"

    by_ben = await api.gateway.patch(path, json={"title": "Ben's kite"}, headers=ben.auth)
    assert by_ben.status_code == 403
    assert by_ben.json()["type"].endswith("not-your-suggestion")
    assert (await api.gateway.delete(path, headers=ben.auth)).status_code == 403

    changed = await api.gateway.patch(path, json={"title": "Red kite"}, headers=ann.auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Red kite"
    bad = await api.gateway.patch(path, json={"price": "5.00"}, headers=ann.auth)
    assert bad.status_code == 422

    assert (await api.gateway.delete(path, headers=ann.auth)).status_code == 204
    ben_sees = (await api.get_list(ben, wid)).json()["items"]
    assert suggestion["id"] not in {i["id"] for i in ben_sees}


async def test_a_suggestion_is_announced_to_the_other_viewers_only(api: Api, bus: EventLog) -> None:
    owner, ann, ben, wid = await _family(api)
    suggestion = (await suggest(api, ann, wid, title="Puzzle")).json()

    def announced() -> list[Any]:
        return bus.of("wishlists.item_suggested.v1", lambda p: p["item"]["id"] == suggestion["id"])

    await eventually(announced, message="no item_suggested event")
    (event,) = announced()
    assert event.payload["recipient_ids"] == [ben.id]
    assert event.payload["suggested_by_id"] == ann.id
    assert event.payload["suggested_by_display_name"] == "Ann"
    assert owner.id not in str(event.body["payload"]["recipient_ids"])
    # Nothing about the suggestion goes out as an event about the owner's items.
    assert bus.of("wishlists.item_added.v1", lambda p: p["item"]["id"] == suggestion["id"]) == []


async def test_a_suggestion_is_revealed_with_who_made_it(api: Api) -> None:
    owner, ann, _, wid = await _family(api)
    suggestion = (await suggest(api, ann, wid, title="Kite")).json()

    revealed = await api.gateway.post(
        f"{API}/wishlists/{wid}/reveal", json={"early": True}, headers=owner.auth
    )
    assert revealed.status_code == 200, revealed.text
    (shown,) = revealed.json()["suggestions"]
    assert shown["id"] == suggestion["id"]
    assert shown["suggested_by"] == {"id": ann.id, "display_name": "Ann"}
    # Unreserved, it is now an item of the owner's list like any other.
    own = (await api.get_list(owner, wid)).json()["items"]
    assert {i["title"] for i in own} == {"Book", "Kite"}
    path = f"{API}/wishlists/{wid}/items/{suggestion['id']}"
    assert (await api.gateway.patch(path, json={"priority": 5}, headers=owner.auth)).is_success
    # And no longer the suggester's to change.
    mine = f"{API}/wishlists/{wid}/suggestions/{suggestion['id']}"
    assert (await api.gateway.delete(mine, headers=ann.auth)).status_code == 403
