"""Email preferences over HTTP, and the running notifier mailing what they ask for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from wishlist_shared.events import ItemAdded, PasswordResetRequested

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = pytest.mark.system

PREFERENCES = "/api/v1/notifications/email-preferences"


async def test_preferences_are_off_until_set_and_answered_as_saved(platform: Platform) -> None:
    (user,) = await platform.users("Paula")
    got = await platform.notifier.get(PREFERENCES, headers=user.auth)
    assert (got.status_code, got.json()) == (200, {"kinds": [], "delivery": "immediate"})

    body = {"kinds": ["item_reserved", "item_added", "item_added"], "delivery": "daily"}
    put = await platform.notifier.put(PREFERENCES, json=body, headers=user.auth)
    saved = {"kinds": ["item_added", "item_reserved"], "delivery": "daily"}
    assert (put.status_code, put.json()) == (200, saved)
    assert (await platform.notifier.get(PREFERENCES, headers=user.auth)).json() == saved


async def test_an_unknown_kind_or_delivery_is_a_422_naming_the_field(platform: Platform) -> None:
    (user,) = await platform.users("Paula")
    for body, field in (
        ({"kinds": ["item_added", "gossip"]}, "kinds"),
        ({"kinds": [], "delivery": "hourly"}, "delivery"),
    ):
        response = await platform.notifier.put(PREFERENCES, json=body, headers=user.auth)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text
    got = await platform.notifier.get(PREFERENCES, headers=user.auth)
    assert got.json() == {"kinds": [], "delivery": "immediate"}


async def test_preferences_need_a_token(platform: Platform) -> None:
    assert (await platform.notifier.get(PREFERENCES)).status_code == 401
    put = await platform.notifier.put(PREFERENCES, json={"kinds": []})
    assert put.status_code == 401


async def test_the_running_notifier_mails_enabled_kinds_and_reset_links(
    platform: Platform,
) -> None:
    owner, viewer = await platform.users("Olga", "Vera")
    put = await platform.notifier.put(
        PREFERENCES, json={"kinds": ["item_added"]}, headers=viewer.auth
    )
    assert put.status_code == 200
    # Vera's address reached the notifier by auth's user_registered event.
    await platform.bus.send(
        ItemAdded(
            wishlist=platform.wishlist_ref(owner, "Winter"),
            item=platform.item_snapshot("Scarf"),
            recipient_ids=(viewer.id,),
        )
    )
    (added,) = await platform.sink.wait_for(viewer.email)
    assert added.subject == "New on \u201cWinter\u201d: Scarf"

    token = f"t-{uuid.uuid4().hex}"
    await platform.bus.send(
        PasswordResetRequested(
            user_id=owner.id,
            email=owner.email,
            display_name=owner.display_name,
            reset_token=token,
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
        )
    )
    (reset,) = await platform.sink.wait_for(owner.email)
    assert any(link.endswith(f"/reset-password#token={token}") for link in reset.links())


async def test_the_export_holds_the_email_preferences(platform: Platform) -> None:
    (user,) = await platform.users("Paula")
    chosen = {"kinds": ["wishlist_shared"], "delivery": "daily"}
    assert (await platform.notifier.put(PREFERENCES, json=chosen, headers=user.auth)).is_success
    exported = await platform.notifier.get("/api/v1/me/export", headers=user.auth)
    assert exported.status_code == 200, exported.text
    assert exported.json()["email_preferences"] == chosen
