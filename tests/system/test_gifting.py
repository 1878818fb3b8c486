"""Gifting on the whole platform: groups, suggestions, the reveal and spoiler control.

Auth, wishlists, notifier and the gateway run as real processes on the real
servers; people do what a browser does (HTTP through the gateway, a
WebSocket). The surprise rule is checked where an owner could notice it
broken: every answer they get, their export, their inbox and their socket.

A socket's silence is shown, not waited for: once the event that must not
reach a person was handled (someone else was told of it), something they
must be told (a sentinel) is set off, and it is the first thing their
socket gets.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from live_platform import Person, Platform, fresh_email, receive
from websockets.asyncio.client import ClientConnection

from wishlist_shared.testing.eventually import eventually

pytestmark = [pytest.mark.system, pytest.mark.timeout(240)]

NOTIFIED = 20.0
"""Seconds an event may take to become a notification (RabbitMQ, notifier, Redis)."""
# Fields of an item that differ between two items whatever happened to them.
OWN_FIELDS = ("id", "title", "created_at", "updated_at", "received_at")


def in_a_month() -> str:
    return (datetime.now(UTC).date() + timedelta(days=30)).isoformat()


async def new_list(
    platform: Platform, owner: Person, *viewers: Person, **fields: Any
) -> dict[str, Any]:
    wishlist = await platform.post(owner, "/wishlists", {"title": "Birthday", **fields})
    for viewer in viewers:
        await platform.share(owner, wishlist["id"], viewer)
    return wishlist


async def told(platform: Platform, who: Person, count: int) -> list[dict[str, Any]]:
    """Waits until ``who`` has exactly ``count`` notifications; returns them, newest first."""

    async def inbox() -> list[dict[str, Any]]:
        found = await platform.notifications(who)
        assert len(found) == count, [n["kind"] for n in found]
        return found

    return await eventually(inbox, timeout=NOTIFIED)


async def after_the(platform: Platform, who: Person, count: int) -> dict[str, str]:
    """Socket parameters that skip the ``count`` notifications ``who`` is due by now."""
    found = await told(platform, who, count)
    return {"after": found[0]["id"]} if found else {}


async def silent_to_owner(platform: Platform, owner: Person, owner_ws: ClientConnection) -> None:
    """The owner's socket got nothing so far: a list shared with them is the first it gets."""
    friend = await platform.person("Fenella")
    theirs = await new_list(platform, friend, owner)
    first = await receive(owner_ws)
    assert (first["kind"], first["data"]["wishlist"]["id"]) == ("wishlist_shared", theirs["id"])


async def shared_with(platform: Platform, who: Person) -> list[str]:
    page = await platform.ok(who, "GET", "/wishlists/shared-with-me")
    return [w["id"] for w in page["items"]]


def problem(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["type"]


def without(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in fields}


# --- groups ------------------------------------------------------------------------


async def test_members_who_join_later_see_the_groups_lists_and_hear_of_them_until_they_leave(
    platform: Platform,
) -> None:
    gina, mark, dora = [await platform.person(n) for n in ("Gina", "Mark", "Dora")]
    birthday = await new_list(platform, gina, dora)
    bid = birthday["id"]
    kite = await platform.post(gina, f"/wishlists/{bid}/items", {"title": "Kite", "quantity": 2})
    group = await platform.post(gina, "/groups", {"name": "Family"})
    gid = group["id"]
    shared = await platform.call(gina, "POST", f"/wishlists/{bid}/groups", {"group_id": gid})
    assert shared.status_code == 201, shared.text

    # Mark joins after the list was shared with the group.
    async with platform.socket(mark) as mark_ws:
        added = await platform.call(gina, "POST", f"/groups/{gid}/members", {"email": mark.email})
        assert added.status_code == 201, added.text
        assert added.json()["status"] == "active"
        heard = {n["kind"]: n["data"] for n in [await receive(mark_ws), await receive(mark_ws)]}
    assert heard.keys() == {"added_to_group", "wishlist_shared"}
    assert heard["wishlist_shared"]["wishlist"]["id"] == bid
    assert heard["wishlist_shared"]["via"] == "group"
    assert heard["wishlist_shared"]["group"] == {"id": gid, "name": "Family"}
    assert await shared_with(platform, mark) == [bid]
    seen = await platform.ok(mark, "GET", f"/wishlists/{bid}")
    assert [i["title"] for i in seen["items"]] == ["Kite"]

    # Pia is invited before she has an account; registering makes her a member.
    pia_email = fresh_email("Pia")
    invited = await platform.call(gina, "POST", f"/groups/{gid}/members", {"email": pia_email})
    assert invited.status_code == 201, invited.text
    assert invited.json()["status"] == "pending"
    pia = await platform.person("Pia", pia_email)
    await eventually(lambda: platform.sees(pia, bid), timeout=NOTIFIED)
    assert await shared_with(platform, pia) == [bid]
    pia_inbox = await told(platform, pia, 2)
    (pia_told,) = [n for n in pia_inbox if n["kind"] == "wishlist_shared"]
    assert (pia_told["data"]["wishlist"]["id"], pia_told["data"]["via"]) == (bid, "group")
    assert pia_told["data"]["group"]["id"] == gid

    # Dora saw the list already (shared with her directly, and told of it and of the
    # Kite): the group adds no second viewer, no second notice, and her reservation
    # counts once.
    dora_ws_params = await after_the(platform, dora, 2)
    async with (
        platform.socket(dora, **dora_ws_params) as dora_ws,
        platform.socket(pia, after=pia_inbox[0]["id"]) as pia_ws,
    ):
        added = await platform.call(gina, "POST", f"/groups/{gid}/members", {"email": dora.email})
        assert added.status_code == 201, added.text
        wedding = await platform.post(gina, "/wishlists", {"title": "Wedding"})
        wid = wedding["id"]
        await platform.ok(gina, "POST", f"/wishlists/{wid}/groups", {"group_id": gid})
        # Of the two lists, only the one new to Dora is news to her.
        dora_heard = [await receive(dora_ws), await receive(dora_ws)]
        assert sorted((n["kind"], n["data"].get("wishlist", {}).get("id")) for n in dora_heard) == [
            ("added_to_group", None),
            ("wishlist_shared", wid),
        ]
        pia_heard = await receive(pia_ws)
        assert (pia_heard["kind"], pia_heard["data"]["wishlist"]["id"]) == ("wishlist_shared", wid)
        assert pia_heard["data"]["via"] == "group"

        await platform.ok(dora, "POST", f"/wishlists/{bid}/items/{kite['id']}/reservations", {})
        reserved = await receive(pia_ws)
        assert (reserved["kind"], reserved["data"]["reserved_quantity"]) == ("item_reserved", 1)

    assert sorted(await shared_with(platform, dora)) == sorted([bid, wid])
    (dora_kite,) = (await platform.ok(dora, "GET", f"/wishlists/{bid}"))["items"]
    assert (dora_kite["reserved_quantity"], dora_kite["reserved_by_me"]) == (1, True)
    (pia_kite,) = (await platform.ok(pia, "GET", f"/wishlists/{bid}"))["items"]
    assert (pia_kite["reserved_quantity"], pia_kite["reserved_by_me"]) == (1, False)
    shopping = await platform.ok(dora, "GET", "/reservations")
    assert [r["item_id"] for r in shopping["items"]] == [kite["id"]]
    again = await platform.call(
        dora, "POST", f"/wishlists/{bid}/items/{kite['id']}/reservations", {}
    )
    assert again.status_code == 409

    # Leaving takes away what the group gave, and only that.
    for member in (mark, dora):
        left = await platform.call(member, "DELETE", f"/groups/{gid}/members/me")
        assert left.status_code == 204, left.text
    for gone in (bid, wid):
        assert (await platform.call(mark, "GET", f"/wishlists/{gone}")).status_code == 404
    assert await shared_with(platform, mark) == []
    assert (await platform.call(mark, "GET", f"/groups/{gid}")).status_code == 404
    assert (await platform.call(dora, "GET", f"/wishlists/{wid}")).status_code == 404
    assert await shared_with(platform, dora) == [bid]
    (dora_kite,) = (await platform.ok(dora, "GET", f"/wishlists/{bid}"))["items"]
    assert (dora_kite["reserved_quantity"], dora_kite["reserved_by_me"]) == (1, True)
    # Pia stays, and sees both.
    assert sorted(await shared_with(platform, pia)) == sorted([bid, wid])
    owner = await platform.ok(gina, "GET", f"/groups/{gid}")
    assert sorted(m["display_name"] for m in owner["members"]) == ["Gina", "Pia"]

    # Two groups give Pia the birthday list: she is still one viewer of it, and
    # leaving one group leaves her the other's access.
    friends = await platform.post(gina, "/groups", {"name": "Friends"})
    await platform.ok(gina, "POST", f"/groups/{friends['id']}/members", {"email": pia.email})
    await platform.ok(gina, "POST", f"/wishlists/{bid}/groups", {"group_id": friends["id"]})
    assert sorted(await shared_with(platform, pia)) == sorted([bid, wid])
    left = await platform.call(pia, "DELETE", f"/groups/{gid}/members/me")
    assert left.status_code == 204, left.text
    assert await shared_with(platform, pia) == [bid]
    assert (await platform.call(pia, "GET", f"/wishlists/{wid}")).status_code == 404
    (pia_kite,) = (await platform.ok(pia, "GET", f"/wishlists/{bid}"))["items"]
    assert pia_kite["reserved_quantity"] == 1
    # Friends was no news of the birthday list to her. A list new to her is: once she
    # is told of it, a notice of the birthday list (published before) would be in too.
    party = await platform.post(gina, "/wishlists", {"title": "Party"})
    await platform.ok(gina, "POST", f"/wishlists/{party['id']}/groups", {"group_id": friends["id"]})

    async def shares_told() -> list[str]:
        shared = [
            n["data"]["wishlist"]["id"]
            for n in await platform.notifications(pia)
            if n["kind"] == "wishlist_shared"
        ]
        assert party["id"] in shared, "not told of the party yet"
        return shared

    assert sorted(await eventually(shares_told, timeout=NOTIFIED)) == sorted(
        [bid, wid, party["id"]]
    )


# --- suggestions ------------------------------------------------------------------


async def test_a_suggestion_reaches_other_viewers_and_nothing_of_it_the_owner_until_the_reveal(
    platform: Platform,
) -> None:
    olive, ann, ben = [await platform.person(n) for n in ("Olive", "Annabel", "Benedict")]
    wishlist = await new_list(platform, olive, ann, ben, occasion_date=in_a_month())
    wid = wishlist["id"]
    await platform.post(olive, f"/wishlists/{wid}/items", {"title": "Kite"})
    token = (await platform.post(olive, f"/wishlists/{wid}/link", {}))["token"]
    own_before = await platform.call(olive, "GET", f"/wishlists/{wid}")
    link_before = await platform.call(olive, "GET", f"/shared/{token}")
    export_before = (await platform.call(olive, "GET", "/me/export")).json()
    assert own_before.status_code == link_before.status_code == 200
    # Ann and Ben heard of the share and of the Kite; their sockets start after that.
    ben_params = await after_the(platform, ben, 2)

    async with (
        platform.socket(ben, **ben_params) as ben_ws,
        platform.socket(olive) as olive_ws,
    ):
        suggested = await platform.call(
            ann, "POST", f"/wishlists/{wid}/suggestions", {"title": "Telescope", "notes": "blue"}
        )
        assert suggested.status_code == 201, suggested.text
        suggestion = suggested.json()
        sid = suggestion["id"]
        assert suggestion["suggested_by"] == {"id": ann.id, "display_name": "Annabel"}

        heard = await receive(ben_ws)
        assert heard["kind"] == "item_suggested"
        assert heard["data"]["item"]["id"] == sid
        assert heard["data"]["suggested_by_display_name"] == "Annabel"
        (_, ben_sees) = (await platform.ok(ben, "GET", f"/wishlists/{wid}"))["items"]
        assert (ben_sees["id"], ben_sees["suggested_by"]["id"]) == (sid, ann.id)
        await platform.ok(ben, "POST", f"/wishlists/{wid}/items/{sid}/reservations", {})

        # The owner: their list and their link as before, to the byte.
        own_now = await platform.call(olive, "GET", f"/wishlists/{wid}")
        assert own_now.content == own_before.content
        link_now = await platform.call(olive, "GET", f"/shared/{token}")
        assert link_now.content == link_before.content
        # The item routes answer for the suggestion as for an item that never was.
        nowhere = uuid.uuid4()
        for method, route, body in (
            ("PATCH", "items/{}", {"title": "Mine now"}),
            ("DELETE", "items/{}", None),
            ("POST", "items/{}/received", None),
            ("PATCH", "suggestions/{}", {"title": "Mine now"}),
            ("DELETE", "suggestions/{}", None),
            ("POST", "items/{}/reservations", {}),
        ):
            path = f"/wishlists/{wid}/{route}"
            real = await platform.call(olive, method, path.format(sid), body)
            made_up = await platform.call(olive, method, path.format(nowhere), body)
            assert real.status_code >= 400, (method, route, real.text)
            assert problem(real) == problem(made_up), (method, route)
        # The export, gathered by the gateway from every service: as before.
        export = await platform.call(olive, "GET", "/me/export")
        assert export.status_code == 200, export.text
        exported = export.json()
        assert exported["wishlists"] == export_before["wishlists"]
        assert exported["notifications"] == []
        for secret in ("Telescope", sid, ann.id, "item_suggested"):
            assert secret not in export.text
        assert await platform.notifications(olive) == []
        # Ann was told of the share, the Kite and Ben's reservation of her suggestion.
        await told(platform, ann, 3)
        await silent_to_owner(platform, olive, olive_ws)

    # Reveal before the occasion: refused without the owner's confirmation.
    refused = await platform.call(olive, "POST", f"/wishlists/{wid}/reveal", {})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("reveal-before-occasion")
    assert (await platform.call(olive, "GET", f"/wishlists/{wid}")).content == own_before.content

    # Ann was told of the share, the Kite and Ben's reservation.
    async with platform.socket(ann, **await after_the(platform, ann, 3)) as ann_ws:
        revealed = await platform.ok(olive, "POST", f"/wishlists/{wid}/reveal", {"early": True})
        assert (await receive(ann_ws))["kind"] == "wishlist_revealed"
    # Ben reserved the suggestion: a gift, archived as received; nobody reserved
    # the Kite, which stays.
    (gift,) = revealed["received"]
    assert (gift["id"], gift["suggested_by"]["id"]) == (sid, ann.id)
    assert [(g["user_id"], g["display_name"]) for g in gift["given_by"]] == [(ben.id, "Benedict")]
    assert revealed["suggestions"] == []
    archive = await platform.ok(olive, "GET", f"/wishlists/{wid}/archive")
    assert [(i["id"], i["suggested_by"]["display_name"]) for i in archive["items"]] == [
        (sid, "Annabel")
    ]

    # Suggested after the reveal, unreserved: an ordinary item of the list once revealed.
    scarf = await platform.post(ann, f"/wishlists/{wid}/suggestions", {"title": "Scarf"})
    own_again = await platform.ok(olive, "GET", f"/wishlists/{wid}")
    assert [i["title"] for i in own_again["items"]] == ["Kite"]
    second = await platform.ok(olive, "POST", f"/wishlists/{wid}/reveal", {"early": True})
    assert [(s["id"], s["suggested_by"]) for s in second["suggestions"]] == [
        (scarf["id"], {"id": ann.id, "display_name": "Annabel"})
    ]
    assert second["received"] == []
    listed = await platform.ok(olive, "GET", f"/wishlists/{wid}")
    assert [(i["title"], i["suggested_by"]) for i in listed["items"]] == [
        ("Kite", None),
        ("Scarf", {"id": ann.id, "display_name": "Annabel"}),
    ]


# --- the reveal and received items --------------------------------------------------


async def test_the_reveal_shows_the_owner_who_gave_what_and_tells_the_viewers(
    platform: Platform,
) -> None:
    rosa, ann, ben = [await platform.person(n) for n in ("Rosa", "Annabel", "Benedict")]
    occasion = in_a_month()
    wishlist = await new_list(platform, rosa, occasion_date=occasion)
    wid = wishlist["id"]
    kite = await platform.post(rosa, f"/wishlists/{wid}/items", {"title": "Kite"})
    book = await platform.post(rosa, f"/wishlists/{wid}/items", {"title": "Book", "quantity": 3})
    await platform.post(rosa, f"/wishlists/{wid}/items", {"title": "Lamp"})
    for viewer in (ann, ben):
        await platform.share(rosa, wid, viewer)
    await platform.ok(ann, "POST", f"/wishlists/{wid}/items/{kite['id']}/reservations", {})
    books = await platform.post(
        ben,
        f"/wishlists/{wid}/items/{book['id']}/reservations",
        {"quantity": 2, "show_name": True},
    )
    await platform.ok(ben, "PATCH", f"/reservations/{books['id']}", {"purchased": True})

    refused = await platform.call(rosa, "POST", f"/wishlists/{wid}/reveal", {"early": False})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("reveal-before-occasion")
    still = await platform.ok(rosa, "GET", f"/wishlists/{wid}")
    assert still["revealed_at"] is None
    assert [i["title"] for i in still["items"]] == ["Kite", "Book", "Lamp"]

    # Each viewer has been told of the share and of the other's reservation.
    async with (
        platform.socket(ann, **await after_the(platform, ann, 2)) as ann_ws,
        platform.socket(ben, **await after_the(platform, ben, 2)) as ben_ws,
    ):
        revealed = await platform.ok(rosa, "POST", f"/wishlists/{wid}/reveal", {"early": True})
        for ws in (ann_ws, ben_ws):
            heard = await receive(ws)
            assert (heard["kind"], heard["data"]["wishlist"]["id"]) == ("wishlist_revealed", wid)
            assert sorted(heard["data"]["received_titles"]) == ["Book", "Kite"]

    assert revealed["revealed_at"] is not None
    assert revealed["wishlist"]["revealed_at"] == revealed["revealed_at"]
    assert revealed["wishlist"]["occasion_date"] == occasion
    gifts = {i["title"]: i["given_by"] for i in revealed["received"]}
    # Anonymity was from the other viewers: the owner sees every giver.
    assert gifts == {
        "Kite": [{"user_id": ann.id, "display_name": "Annabel", "quantity": 1, "purchased": False}],
        "Book": [{"user_id": ben.id, "display_name": "Benedict", "quantity": 2, "purchased": True}],
    }
    assert all(i["received_at"] is not None for i in revealed["received"])
    after = await platform.ok(rosa, "GET", f"/wishlists/{wid}")
    assert [i["title"] for i in after["items"]] == ["Lamp"]
    assert after["revealed_at"] == revealed["revealed_at"]
    archive = await platform.ok(ann, "GET", f"/wishlists/{wid}/archive")
    assert sorted(i["title"] for i in archive["items"]) == ["Book", "Kite"]
    assert "Benedict" not in json.dumps(archive)
    gone = await platform.call(ann, "POST", f"/wishlists/{wid}/items/{book['id']}/reservations", {})
    assert gone.status_code == 409

    # Next year's surprise is kept again: a new reservation shows the owner nothing,
    # and the link never shows what was received.
    (lamp,) = after["items"]
    own_before = await platform.call(rosa, "GET", f"/wishlists/{wid}")
    token = (await platform.post(rosa, f"/wishlists/{wid}/link", {}))["token"]
    link_before = await platform.call(rosa, "GET", f"/shared/{token}")
    assert [i["title"] for i in link_before.json()["items"]] == ["Lamp"]
    await platform.ok(ann, "POST", f"/wishlists/{wid}/items/{lamp['id']}/reservations", {})
    assert (await platform.call(rosa, "GET", f"/wishlists/{wid}")).content == own_before.content
    assert (await platform.call(rosa, "GET", f"/shared/{token}")).content == link_before.content
    owner_archive = await platform.ok(rosa, "GET", f"/wishlists/{wid}/archive")
    assert sorted(i["title"] for i in owner_archive["items"]) == ["Book", "Kite"]


async def test_marking_received_tells_the_reservers_only_and_answers_the_owner_alike(
    platform: Platform,
) -> None:
    rosa, ann, ben = [await platform.person(n) for n in ("Rosa", "Annabel", "Benedict")]
    wishlist = await new_list(platform, rosa)
    wid = wishlist["id"]
    same = {"price": "12.50", "currency": "EUR", "quantity": 2, "notes": "wool"}
    socks, scarf, gloves = [
        await platform.post(rosa, f"/wishlists/{wid}/items", {"title": title, **same})
        for title in ("Socks", "Scarf", "Gloves")
    ]
    for viewer in (ann, ben):
        await platform.share(rosa, wid, viewer)
    await platform.ok(ann, "POST", f"/wishlists/{wid}/items/{scarf['id']}/reservations", {})
    await platform.ok(
        ben, "POST", f"/wishlists/{wid}/items/{gloves['id']}/reservations", {"quantity": 2}
    )

    async with (
        platform.socket(ann, **await after_the(platform, ann, 2)) as ann_ws,
        platform.socket(ben, **await after_the(platform, ben, 2)) as ben_ws,
        platform.socket(rosa) as rosa_ws,
    ):
        unreserved = await platform.ok(
            rosa, "POST", f"/wishlists/{wid}/items/{socks['id']}/received"
        )
        reserved = await platform.ok(rosa, "POST", f"/wishlists/{wid}/items/{scarf['id']}/received")
        ann_heard = await receive(ann_ws)
        assert (ann_heard["kind"], ann_heard["data"]["item"]["id"]) == (
            "item_received",
            scarf["id"],
        )
        # Ann was told of her Scarf, so that event is handled: had Ben been told of
        # it, his socket would have it before the Gloves he reserved.
        await platform.ok(rosa, "POST", f"/wishlists/{wid}/items/{gloves['id']}/received")
        ben_heard = await receive(ben_ws)
        assert (ben_heard["kind"], ben_heard["data"]["item"]["id"]) == (
            "item_received",
            gloves["id"],
        )
        await silent_to_owner(platform, rosa, rosa_ws)

    assert without(reserved, OWN_FIELDS) == without(unreserved, OWN_FIELDS)
    assert reserved.keys() == unreserved.keys()
    assert reserved["received_at"] is not None
    assert unreserved["received_at"] is not None
    assert (await platform.ok(rosa, "GET", f"/wishlists/{wid}"))["items"] == []
    # The archive keeps the secret too until the reveal, then tells who gave what.
    archived = {
        i["title"]: i
        for i in (await platform.ok(rosa, "GET", f"/wishlists/{wid}/archive"))["items"]
    }
    assert archived.keys() == {"Socks", "Scarf", "Gloves"}
    assert without(archived["Scarf"], OWN_FIELDS) == without(archived["Socks"], OWN_FIELDS)
    assert archived["Scarf"]["given_by"] == []
    await platform.ok(rosa, "POST", f"/wishlists/{wid}/reveal", {"early": True})
    archived = {
        i["title"]: i
        for i in (await platform.ok(rosa, "GET", f"/wishlists/{wid}/archive"))["items"]
    }
    assert {
        t: [(g["user_id"], g["quantity"]) for g in i["given_by"]] for t, i in archived.items()
    } == {
        "Socks": [],
        "Scarf": [(ann.id, 1)],
        "Gloves": [(ben.id, 2)],
    }
    # A received item can no longer be reserved.
    late = await platform.call(
        ben, "POST", f"/wishlists/{wid}/items/{socks['id']}/reservations", {}
    )
    assert late.status_code == 409
    assert late.json()["type"].endswith("item-received")


# --- spoiler control ---------------------------------------------------------------


async def test_reservers_stay_anonymous_unless_they_choose_and_the_owner_learns_nothing(
    platform: Platform,
) -> None:
    olive, ann, ben, cal = [
        await platform.person(n) for n in ("Olive", "Annabel", "Benedict", "Calloway")
    ]
    wishlist = await new_list(platform, olive)
    wid = wishlist["id"]
    kite = await platform.post(olive, f"/wishlists/{wid}/items", {"title": "Kite", "quantity": 3})
    for viewer in (ann, ben, cal):
        await platform.share(olive, wid, viewer)
    token = (await platform.post(olive, f"/wishlists/{wid}/link", {}))["token"]
    own_before = await platform.call(olive, "GET", f"/wishlists/{wid}")
    link_before = await platform.call(olive, "GET", f"/shared/{token}")
    anyone_before = await platform.http.get(f"/api/v1/shared/{token}")
    index_before = await platform.call(olive, "GET", "/wishlists")
    assert own_before.status_code == link_before.status_code == 200

    async with platform.socket(ben, **await after_the(platform, ben, 1)) as ben_ws:
        mine = await platform.post(ann, f"/wishlists/{wid}/items/{kite['id']}/reservations", {})
        assert mine["show_name"] is False
        heard = await receive(ben_ws)
        assert (heard["kind"], heard["data"]["reserved_quantity"]) == ("item_reserved", 1)
        for secret in ("Annabel", ann.id, ann.email):
            assert secret not in json.dumps(heard)
        ben_sees = await platform.call(ben, "GET", f"/wishlists/{wid}")
        for secret in ("Annabel", ann.id, ann.email):
            assert secret not in ben_sees.text
        (item,) = ben_sees.json()["items"]
        assert (item["reserved_quantity"], item["reserved_by"]) == (1, [])

        await platform.post(
            cal, f"/wishlists/{wid}/items/{kite['id']}/reservations", {"show_name": True}
        )
        heard = await receive(ben_ws)
        assert (heard["kind"], heard["data"]["reserved_quantity"]) == ("item_reserved", 2)
    ben_sees = await platform.call(ben, "GET", f"/wishlists/{wid}")
    assert "Annabel" not in ben_sees.text
    (item,) = ben_sees.json()["items"]
    assert item["reserved_quantity"] == 2
    assert item["reserved_by"] == [{"user_id": cal.id, "display_name": "Calloway", "quantity": 1}]

    # Ann changes her mind: her name shows from now on.
    await platform.ok(ann, "PATCH", f"/reservations/{mine['id']}", {"show_name": True})
    (item,) = (await platform.ok(ben, "GET", f"/wishlists/{wid}"))["items"]
    assert sorted((r["display_name"], r["quantity"]) for r in item["reserved_by"]) == [
        ("Annabel", 1),
        ("Calloway", 1),
    ]
    # A suggestion, reserved too: still nothing for the owner.
    telescope = await platform.post(cal, f"/wishlists/{wid}/suggestions", {"title": "Telescope"})
    await platform.ok(ben, "POST", f"/wishlists/{wid}/items/{telescope['id']}/reservations", {})

    # The owner, by their own URL or their link, gets the very bytes of before.
    assert (await platform.call(olive, "GET", f"/wishlists/{wid}")).content == own_before.content
    assert (await platform.call(olive, "GET", f"/shared/{token}")).content == link_before.content
    assert (await platform.call(olive, "GET", "/wishlists")).content == index_before.content
    anyone = await platform.http.get(f"/api/v1/shared/{token}")
    assert anyone.content == anyone_before.content
    for secret in ("reserved", "Telescope", "Calloway"):
        assert secret not in anyone.text
