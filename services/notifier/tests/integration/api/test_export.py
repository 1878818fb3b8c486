"""The notifier's part of a data export: all of the caller's notifications, oldest first."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.events import ItemAdded

if TYPE_CHECKING:
    from conftest import Platform, User

pytestmark = pytest.mark.system

EXPORT = "/api/v1/me/export"


async def tell(platform: Platform, user: User, title: str, told_before: int) -> None:
    ref = platform.wishlist_ref(user).model_copy(update={"owner_id": uuid.uuid4()})
    await platform.bus.send(
        ItemAdded(wishlist=ref, item=platform.item_snapshot(title), recipient_ids=(user.id,))
    )
    # One at a time, so that the order they were told in is known.
    await platform.wait_for(user, told_before + 1)


async def test_the_export_holds_every_notification_oldest_first_as_rest_shows_them(
    platform: Platform,
) -> None:
    paula, other = await platform.users("Paula", "Otto")
    for n, title in enumerate(["a", "b", "c"]):
        await tell(platform, paula, title, n)
    await tell(platform, other, "not Paula's", 0)
    newest_first = (await platform.notifications(paula, limit=200))["items"]
    read = newest_first[-1]["id"]
    marked = await platform.notifier.post(f"/api/v1/notifications/{read}/read", headers=paula.auth)
    assert marked.status_code == 204

    response = await platform.notifier.get(EXPORT, headers=paula.auth)

    assert response.status_code == 200, response.text
    exported = response.json()
    assert set(exported) == {"notifications", "email_preferences"}
    assert [n["data"]["item"]["title"] for n in exported["notifications"]] == ["a", "b", "c"]
    now_newest_first = (await platform.notifications(paula, limit=200))["items"]
    assert exported["notifications"] == list(reversed(now_newest_first))
    assert exported["notifications"][0]["read"] is True
    assert "not Paula's" not in response.text


async def test_a_user_without_notifications_exports_an_empty_list(platform: Platform) -> None:
    (quiet,) = await platform.users("Quentin")
    response = await platform.notifier.get(EXPORT, headers=quiet.auth)
    assert response.status_code == 200
    assert response.json() == {
        "notifications": [],
        "email_preferences": {"kinds": [], "delivery": "immediate"},
    }


async def test_the_export_needs_a_valid_token(platform: Platform) -> None:
    assert (await platform.notifier.get(EXPORT)).status_code == 401
    bad = await platform.notifier.get(EXPORT, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
