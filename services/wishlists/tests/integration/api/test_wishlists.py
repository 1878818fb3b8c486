"""Wishlists CRUD through the gateway: ``/api/v1/wishlists`` and ``/api/v1/wishlists/{id}``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from conftest import Api

pytestmark = pytest.mark.system

WISHLISTS = "/api/v1/wishlists"


async def test_owner_creates_reads_updates_and_deletes_a_list(api: Api) -> None:
    owner = await api.user("Olga")
    created = await api.create_list(
        owner, title="  Birthday 2026 ", description="Books please", occasion_date="2026-05-01"
    )
    assert created["title"] == "Birthday 2026"
    assert created["owner_id"] == owner.id
    assert created["owner_display_name"] == "Olga"
    assert created["occasion_date"] == "2026-05-01"
    assert set(created) == {
        "id",
        "owner_id",
        "owner_display_name",
        "title",
        "description",
        "occasion_date",
        "created_at",
        "updated_at",
        "revealed_at",
    }

    read = await api.get_list(owner, created["id"])
    assert read.status_code == 200
    assert read.json() == created | {"items": []}

    patched = await api.gateway.patch(
        f"{WISHLISTS}/{created['id']}",
        json={"description": None, "title": "Name day"},
        headers=owner.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Name day"
    assert patched.json()["description"] is None
    assert patched.json()["occasion_date"] == "2026-05-01"
    assert patched.json()["updated_at"] > created["updated_at"]

    deleted = await api.gateway.delete(f"{WISHLISTS}/{created['id']}", headers=owner.auth)
    assert deleted.status_code == 204
    gone = await api.get_list(owner, created["id"])
    assert gone.status_code == 404
    assert gone.headers["content-type"] == MEDIA_TYPE


async def test_own_lists_page_holds_only_the_callers_lists_newest_first(api: Api) -> None:
    owner, other = await api.users("Olga", "Otto")
    first = await api.create_list(owner, title="First")
    second = await api.create_list(owner, title="Second")
    await api.create_list(other, title="Not mine")
    page = await api.gateway.get(WISHLISTS, headers=owner.auth)
    assert page.status_code == 200
    assert [w["id"] for w in page.json()["items"]] == [second["id"], first["id"]]
    assert page.json()["next_cursor"] is None


async def test_an_empty_patch_changes_nothing(api: Api) -> None:
    owner = await api.user()
    created = await api.create_list(owner)
    patched = await api.gateway.patch(f"{WISHLISTS}/{created['id']}", json={}, headers=owner.auth)
    assert patched.status_code == 200
    assert patched.json() == created


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body.title"}),
        ({"title": ""}, {"body.title"}),
        ({"title": "   "}, {"body.title"}),
        ({"title": "x" * 201}, {"body.title"}),
        ({"title": "ok", "description": "d" * 2001}, {"body.description"}),
        ({"title": "ok", "occasion_date": "next friday"}, {"body.occasion_date"}),
        ({"title": "ok", "owner_id": str(uuid.uuid4())}, {"body.owner_id"}),
        ({"title": 5}, {"body.title"}),
    ],
)
async def test_invalid_lists_are_refused_naming_the_field(
    api: Api, body: dict[str, object], fields: set[str]
) -> None:
    owner = await api.user()
    response = await api.gateway.post(WISHLISTS, json=body, headers=owner.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} == fields
    assert {"type", "title", "status", "detail"} <= set(problem)
    page = await api.gateway.get(WISHLISTS, headers=owner.auth)
    assert page.json()["items"] == []


async def test_a_title_may_not_be_patched_to_null(api: Api) -> None:
    owner = await api.user()
    created = await api.create_list(owner)
    response = await api.gateway.patch(
        f"{WISHLISTS}/{created['id']}", json={"title": None}, headers=owner.auth
    )
    assert response.status_code == 422
    assert (await api.get_list(owner, created["id"])).json()["title"] == created["title"]


async def test_lists_need_a_valid_token(api: Api) -> None:
    assert (await api.gateway.get(WISHLISTS)).status_code == 401
    assert (
        await api.gateway.get(WISHLISTS, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
