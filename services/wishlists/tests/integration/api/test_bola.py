"""Broken object-level authorisation, probed: someone else's real ids are 404 on every route."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api

pytestmark = pytest.mark.system

API = "/api/v1"


async def test_a_stranger_gets_404_on_every_route_with_real_ids(api: Api) -> None:
    owner, viewer, stranger = await api.users("Olga", "Vera", "Sam")
    wishlist = await api.create_list(owner)
    wid = wishlist["id"]
    item = await api.add_item(owner, wid)
    await api.make_viewer(owner, wid, viewer)
    share = (await api.gateway.get(f"{API}/wishlists/{wid}/shares", headers=owner.auth)).json()[
        "items"
    ][0]
    reservation = (await api.reserve(viewer, wid, item["id"])).json()
    await api.gateway.post(f"{API}/wishlists/{wid}/link", headers=owner.auth)

    base = f"{API}/wishlists/{wid}"
    routes = [
        ("GET", base, None),
        ("PATCH", base, {"title": "stolen"}),
        ("DELETE", base, None),
        ("POST", f"{base}/items", {"title": "planted"}),
        ("PATCH", f"{base}/items/{item['id']}", {"title": "stolen"}),
        ("DELETE", f"{base}/items/{item['id']}", None),
        ("POST", f"{base}/shares", {"email": stranger.email}),
        ("GET", f"{base}/shares", None),
        ("DELETE", f"{base}/shares/{share['id']}", None),
        ("POST", f"{base}/link", None),
        ("DELETE", f"{base}/link", None),
        ("POST", f"{base}/items/{item['id']}/reservations", {"quantity": 1}),
        ("DELETE", f"{base}/items/{item['id']}/reservations/mine", None),
        ("PATCH", f"{API}/reservations/{reservation['id']}", {"purchased": True}),
    ]
    # What a 404 for an id that does not exist looks like, per kind of resource.
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path, body in routes:
        response = await api.gateway.request(method, path, json=body, headers=stranger.auth)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        invented = path.replace(wid, missing).replace(reservation["id"], missing)
        control = await api.gateway.request(method, invented, json=body, headers=stranger.auth)
        assert response.json() == control.json(), (method, path)

    # Nothing changed, and the stranger found nothing in their own pages.
    read = (await api.get_list(owner, wid)).json()
    assert read["title"] == wishlist["title"]
    assert [i["id"] for i in read["items"]] == [item["id"]]
    assert (await api.get_list(viewer, wid)).json()["items"][0]["reserved_quantity"] == 1
    for page in ("wishlists", "wishlists/shared-with-me", "reservations"):
        found = await api.gateway.get(f"{API}/{page}", headers=stranger.auth)
        assert found.json()["items"] == [], page


async def test_a_viewer_cannot_reach_other_viewers_reservations(api: Api) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    wishlist = await api.create_list(owner)
    item = await api.add_item(owner, wishlist["id"], quantity=2)
    await api.make_viewer(owner, wishlist["id"], ann)
    await api.make_viewer(owner, wishlist["id"], ben)
    anns = (await api.reserve(ann, wishlist["id"], item["id"])).json()
    probe = await api.gateway.patch(
        f"{API}/reservations/{anns['id']}", json={"purchased": True}, headers=ben.auth
    )
    assert probe.status_code == 404
    bens_list = (await api.gateway.get(f"{API}/reservations", headers=ben.auth)).json()
    assert bens_list["items"] == []
