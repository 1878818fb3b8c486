"""The notifications API: pages newest first, "after" oldest first, read state, and 404s."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from wishlist_shared.events import ItemAdded

if TYPE_CHECKING:
    from conftest import Platform, User

pytestmark = pytest.mark.system

API = "/api/v1/notifications"


async def told(platform: Platform, user: User, titles: list[str]) -> list[dict[str, Any]]:
    """Sends one item_added per title to ``user``, one after the other; their notifications."""
    owner_id = uuid.uuid4()
    for n, title in enumerate(titles, start=1):
        ref = platform.wishlist_ref(user).model_copy(update={"owner_id": owner_id})
        await platform.bus.send(
            ItemAdded(wishlist=ref, item=platform.item_snapshot(title), recipient_ids=(user.id,))
        )
        # One at a time, so that the order they were told in is known.
        await platform.wait_for(user, n)
    return await platform.wait_for(user, len(titles))


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [n["data"]["item"]["title"] for n in items]


async def test_the_list_is_newest_first_and_pages_with_a_cursor(platform: Platform) -> None:
    (user,) = await platform.users("Paula")
    await told(platform, user, ["a", "b", "c", "d", "e"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await platform.notifications(user, **params)
        seen += titles(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["e", "d", "c", "b", "a"]
    assert pages == 3


async def test_after_returns_what_came_later_oldest_first(platform: Platform) -> None:
    (user,) = await platform.users("Ada")
    items = await told(platform, user, ["a", "b", "c", "d", "e"])
    first = items[-1]  # newest first: "a"
    page = await platform.notifications(user, after=first["id"], limit=3)
    assert titles(page["items"]) == ["b", "c", "d"]
    rest = await platform.notifications(user, after=first["id"], cursor=page["next_cursor"])
    assert titles(rest["items"]) == ["e"]
    assert rest["next_cursor"] is None
    newest = items[0]
    assert await platform.notifications(user, after=newest["id"]) == {
        "items": [],
        "next_cursor": None,
    }


async def test_read_unread_count_and_read_all(platform: Platform) -> None:
    (user,) = await platform.users("Rhea")
    items = await told(platform, user, ["a", "b", "c"])
    assert await platform.unread_count(user) == 3

    response = await platform.notifier.post(f"{API}/{items[1]['id']}/read", headers=user.auth)
    assert response.status_code == 204
    # Marking it again is no error and changes nothing.
    again = await platform.notifier.post(f"{API}/{items[1]['id']}/read", headers=user.auth)
    assert again.status_code == 204
    assert await platform.unread_count(user) == 2
    unread = await platform.notifications(user, unread="true")
    assert titles(unread["items"]) == ["c", "a"]
    assert [n["read"] for n in (await platform.notifications(user))["items"]] == [
        False,
        True,
        False,
    ]

    response = await platform.notifier.post(f"{API}/read-all", headers=user.auth)
    assert response.status_code == 204
    assert await platform.unread_count(user) == 0
    assert (await platform.notifications(user, unread="true"))["items"] == []


async def test_someone_elses_notification_is_not_found(platform: Platform) -> None:
    owner_of_it, intruder = await platform.users("Nora", "Ivan")
    (theirs,) = await told(platform, owner_of_it, ["secret"])
    read = await platform.notifier.post(f"{API}/{theirs['id']}/read", headers=intruder.auth)
    assert read.status_code == 404
    assert read.headers["content-type"].startswith("application/problem+json")
    assert read.json()["status"] == 404
    after = await platform.notifier.get(API, params={"after": theirs["id"]}, headers=intruder.auth)
    assert after.status_code == 404
    unknown = await platform.notifier.get(
        API, params={"after": str(uuid.uuid4())}, headers=owner_of_it.auth
    )
    assert unknown.status_code == 404
    # And it is still unread for its recipient.
    assert await platform.unread_count(owner_of_it) == 1


async def test_a_made_up_cursor_or_limit_is_a_validation_error(platform: Platform) -> None:
    (user,) = await platform.users("Val")
    for params in ({"cursor": "not-a-cursor"}, {"limit": 201}, {"limit": 0}):
        response = await platform.notifier.get(API, params=params, headers=user.auth)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_without_a_valid_token_nothing_is_shown(platform: Platform) -> None:
    for path in ("", "/unread-count"):
        response = await platform.notifier.get(f"{API}{path}")
        assert response.status_code == 401
    bad = await platform.notifier.get(API, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
