"""Groups through the gateway: members, lists shared with a group, the access it gives and takes."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from wishlist_shared.testing.eventually import eventually

if TYPE_CHECKING:
    from conftest import Api, EventLog, Platform, User

pytestmark = pytest.mark.system

API = "/api/v1"
SHARED = "wishlists.wishlist_shared.v2"


async def _create_group(api: Api, owner: User, name: str = "Family") -> dict[str, Any]:
    response = await api.gateway.post(f"{API}/groups", json={"name": name}, headers=owner.auth)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def _invite(api: Api, owner: User, group_id: str, email: str) -> httpx.Response:
    return await api.gateway.post(
        f"{API}/groups/{group_id}/members", json={"email": email}, headers=owner.auth
    )


async def _known(platform: Platform, *people: User) -> None:
    """Waits until wishlists has heard of each registration (milliseconds after it)."""

    async def all_known() -> bool:
        conn = await asyncpg.connect(platform.stack.database.admin_url)
        try:
            found = await conn.fetchval(
                "SELECT count(*) FROM wishlists.users WHERE id = ANY($1::uuid[])",
                [uuid.UUID(p.id) for p in people],
            )
        finally:
            await conn.close()
        return int(found) == len(people)

    await eventually(all_known, message="wishlists never heard of a registration")


async def _add(api: Api, platform: Platform, owner: User, group_id: str, member: User) -> str:
    """Adds a registered user to the group at once; their membership's id."""
    await _known(platform, member)
    response = await _invite(api, owner, group_id, member.email)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    return str(response.json()["id"])


async def _share_with_group(
    api: Api, owner: User, wishlist_id: str, group_id: str
) -> httpx.Response:
    return await api.gateway.post(
        f"{API}/wishlists/{wishlist_id}/groups", json={"group_id": group_id}, headers=owner.auth
    )


async def _shared_with_me(api: Api, user: User) -> list[str]:
    page = await api.gateway.get(f"{API}/wishlists/shared-with-me", headers=user.auth)
    assert page.status_code == 200, page.text
    return [w["id"] for w in page.json()["items"]]


async def _group_of(api: Api, user: User, group_id: str) -> httpx.Response:
    return await api.gateway.get(f"{API}/groups/{group_id}", headers=user.auth)


async def test_a_group_is_made_named_listed_and_deleted(api: Api) -> None:
    owner = await api.user("Olga")
    group = await _create_group(api, owner, "  Family  ")
    assert group["name"] == "Family"
    assert (group["role"], group["member_count"], group["owner_id"]) == ("owner", 1, owner.id)
    assert group["owner_display_name"] == "Olga"

    for name in ("", " ", "x" * 81):
        bad = await api.gateway.post(f"{API}/groups", json={"name": name}, headers=owner.auth)
        assert bad.status_code == 422, name

    read = (await _group_of(api, owner, group["id"])).json()
    (me,) = read["members"]
    assert (me["user_id"], me["role"], me["status"], me["email"]) == (
        owner.id,
        "owner",
        "active",
        None,
    )
    assert read["wishlists"] == []

    renamed = await api.gateway.patch(
        f"{API}/groups/{group['id']}", json={"name": "Friends"}, headers=owner.auth
    )
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Friends")
    nulled = await api.gateway.patch(
        f"{API}/groups/{group['id']}", json={"name": None}, headers=owner.auth
    )
    assert nulled.status_code == 422

    others = [await _create_group(api, owner, f"G{n}") for n in range(2)]
    first = await api.gateway.get(f"{API}/groups", params={"limit": 2}, headers=owner.auth)
    rest = await api.gateway.get(
        f"{API}/groups",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=owner.auth,
    )
    assert [g["id"] for g in first.json()["items"] + rest.json()["items"]] == [
        others[1]["id"],
        others[0]["id"],
        group["id"],
    ]
    assert rest.json()["next_cursor"] is None

    gone = await api.gateway.delete(f"{API}/groups/{group['id']}", headers=owner.auth)
    assert gone.status_code == 204
    assert (await _group_of(api, owner, group["id"])).status_code == 404


async def test_a_registered_user_is_a_member_at_once_and_told(
    api: Api, platform: Platform, bus: EventLog
) -> None:
    owner, ann, ben = await api.users("Olga", "Ann", "Ben")
    group = await _create_group(api, owner)
    gid = group["id"]
    await _add(api, platform, owner, gid, ann)
    await _add(api, platform, owner, gid, ben)

    again = await _invite(api, owner, gid, ann.email.upper())
    assert (again.status_code, again.json()["user_id"]) == (200, ann.id)
    own = await _invite(api, owner, gid, owner.email)
    assert own.status_code == 422

    seen_by_ann = (await _group_of(api, ann, gid)).json()
    assert (seen_by_ann["role"], seen_by_ann["member_count"]) == ("member", 3)
    assert {m["display_name"]: m["email"] for m in seen_by_ann["members"]} == {
        "Olga": None,
        "Ann": None,
        "Ben": None,
    }
    seen_by_owner = (await _group_of(api, owner, gid)).json()
    assert {m["display_name"]: m["email"] for m in seen_by_owner["members"]} == {
        "Olga": None,
        "Ann": ann.email,
        "Ben": ben.email,
    }
    mine = (await api.gateway.get(f"{API}/groups", headers=ann.auth)).json()["items"]
    assert [(g["id"], g["role"]) for g in mine] == [(gid, "member")]

    def told() -> bool:
        added = bus.of("wishlists.group_member_added.v1", lambda p: p["group"]["id"] == gid)
        return sorted(tuple(e.payload["recipient_ids"]) for e in added) == sorted(
            [(ann.id,), (ben.id,)]
        )

    await eventually(told, message="the new members were not told (exactly once each)")
    assert bus.of("wishlists.group_invited.v1", lambda p: p["group"]["id"] == gid) == []


async def test_an_invitation_becomes_a_membership_on_registration(api: Api, bus: EventLog) -> None:
    owner = await api.user("Olga")
    group = await _create_group(api, owner)
    gid = group["id"]
    wishlist = await api.create_list(owner, title="Birthday")
    assert (await _share_with_group(api, owner, wishlist["id"], gid)).status_code == 201
    email = f"later-{uuid.uuid4().hex[:8]}@example.com"
    pending = await _invite(api, owner, gid, email)
    assert pending.status_code == 201
    assert (pending.json()["status"], pending.json()["user_id"]) == ("pending", None)
    assert (await _group_of(api, owner, gid)).json()["member_count"] == 1

    def invited() -> bool:
        found = bus.of("wishlists.group_invited.v1", lambda p: p["group"]["id"] == gid)
        return [e.payload["email"] for e in found] == [email]

    await eventually(invited, message="no invitation was sent")

    newcomer = await api.user("Nina", email=email)

    async def sees_the_list() -> bool:
        return await _shared_with_me(api, newcomer) == [wishlist["id"]]

    await eventually(sees_the_list, message="the invitation never became a membership")
    assert (await _group_of(api, newcomer, gid)).json()["role"] == "member"

    def told() -> bool:
        shared = bus.of(SHARED, lambda p: p["viewer_id"] == newcomer.id)
        added = bus.of("wishlists.group_member_added.v1", lambda p: p["group"]["id"] == gid)
        return len(shared) == 1 and len(added) == 1

    await eventually(told, message="the new member was not told")
    (shared,) = bus.of(SHARED, lambda p: p["viewer_id"] == newcomer.id)
    assert shared.payload["via"] == "group"
    assert shared.payload["group"] == {
        "id": gid,
        "name": "Family",
        "owner_id": owner.id,
        "owner_display_name": "Olga",
    }


async def test_a_list_shared_with_a_group_is_seen_by_each_member_but_its_owner(
    api: Api, platform: Platform, bus: EventLog
) -> None:
    olga, ann, ben, carl = await api.users("Olga", "Ann", "Ben", "Carl")
    group = await _create_group(api, olga)
    gid = group["id"]
    for member in (ann, ben):
        await _add(api, platform, olga, gid, member)
    anns = await api.create_list(ann, title="Ann's")
    item = await api.add_item(ann, anns["id"])

    shared = await _share_with_group(api, ann, anns["id"], gid)
    assert shared.status_code == 201, shared.text
    assert (shared.json()["group_id"], shared.json()["name"]) == (gid, "Family")
    again = await _share_with_group(api, ann, anns["id"], gid)
    assert again.status_code == 200

    for viewer in (olga, ben):
        seen = await api.get_list(viewer, anns["id"])
        assert seen.status_code == 200
        assert seen.json()["items"][0]["reserved_by_me"] is False
        assert await _shared_with_me(api, viewer) == [anns["id"]]
    # Ann is the owner, not a viewer, of her own list.
    assert "reserved_quantity" not in (await api.get_list(ann, anns["id"])).json()["items"][0]
    assert await _shared_with_me(api, ann) == []
    assert (await api.reserve(ann, anns["id"], item["id"])).status_code == 403
    groups = await api.gateway.get(f"{API}/wishlists/{anns['id']}/groups", headers=ann.auth)
    assert [g["group_id"] for g in groups.json()["items"]] == [gid]
    listed = (await _group_of(api, ben, gid)).json()["wishlists"]
    assert [(w["id"], w["owner_display_name"]) for w in listed] == [(anns["id"], "Ann")]

    # A member who joins later sees it too, and is told.
    await _add(api, platform, olga, gid, carl)
    assert (await api.get_list(carl, anns["id"])).status_code == 200

    def told() -> bool:
        found = bus.of(SHARED, lambda p: p["wishlist"]["id"] == anns["id"])
        return sorted(e.payload["viewer_id"] for e in found) == sorted([olga.id, ben.id, carl.id])

    await eventually(told, message="each member was not told exactly once")
    found = bus.of(SHARED, lambda p: p["wishlist"]["id"] == anns["id"])
    assert all(e.payload["recipient_ids"] == [e.payload["viewer_id"]] for e in found)
    assert {e.payload["via"] for e in found} == {"group"}


@pytest.mark.parametrize("way_out", ["leave", "removed", "unshared", "group_deleted"])
async def test_the_groups_access_ends_but_a_direct_share_stays(
    api: Api, platform: Platform, way_out: str
) -> None:
    olga, ann, ben = await api.users("Olga", "Ann", "Ben")
    group = await _create_group(api, olga)
    gid = group["id"]
    members = {u.id: await _add(api, platform, olga, gid, u) for u in (ann, ben)}
    olgas = await api.create_list(olga)
    assert (await _share_with_group(api, olga, olgas["id"], gid)).status_code == 201
    # Ann was also given the list directly.
    await api.make_viewer(olga, olgas["id"], ann)
    assert (await api.get_list(ben, olgas["id"])).status_code == 200

    if way_out == "leave":
        for user in (ann, ben):
            left = await api.gateway.delete(f"{API}/groups/{gid}/members/me", headers=user.auth)
            assert left.status_code == 204
        assert (await _group_of(api, ben, gid)).status_code == 404
    elif way_out == "removed":
        for user in (ann, ben):
            path = f"{API}/groups/{gid}/members/{members[user.id]}"
            assert (await api.gateway.delete(path, headers=olga.auth)).status_code == 204
    elif way_out == "unshared":
        path = f"{API}/wishlists/{olgas['id']}/groups/{gid}"
        assert (await api.gateway.delete(path, headers=olga.auth)).status_code == 204
        assert (await api.gateway.delete(path, headers=olga.auth)).status_code == 404
    else:
        gone = await api.gateway.delete(f"{API}/groups/{gid}", headers=olga.auth)
        assert gone.status_code == 204

    assert (await api.get_list(ben, olgas["id"])).status_code == 404
    assert await _shared_with_me(api, ben) == []
    assert (await api.get_list(ann, olgas["id"])).status_code == 200
    assert await _shared_with_me(api, ann) == [olgas["id"]]
    # The owner's page of shares only ever held the direct one.
    shares = await api.gateway.get(f"{API}/wishlists/{olgas['id']}/shares", headers=olga.auth)
    assert [s["viewer_id"] for s in shares.json()["items"]] == [ann.id]


async def test_a_members_lists_leave_the_group_with_them(api: Api, platform: Platform) -> None:
    olga, ann, ben = await api.users("Olga", "Ann", "Ben")
    gid = (await _create_group(api, olga))["id"]
    for user in (ann, ben):
        await _add(api, platform, olga, gid, user)
    anns = await api.create_list(ann)
    assert (await _share_with_group(api, ann, anns["id"], gid)).status_code == 201
    assert (await api.get_list(ben, anns["id"])).status_code == 200

    left = await api.gateway.delete(f"{API}/groups/{gid}/members/me", headers=ann.auth)
    assert left.status_code == 204
    assert (await api.get_list(ben, anns["id"])).status_code == 404
    assert (await _group_of(api, ben, gid)).json()["wishlists"] == []
    groups = await api.gateway.get(f"{API}/wishlists/{anns['id']}/groups", headers=ann.auth)
    assert groups.json()["items"] == []


async def test_a_viewer_is_one_viewer_however_many_ways_they_come_in(
    api: Api, platform: Platform, bus: EventLog
) -> None:
    olga, vera, otto = await api.users("Olga", "Vera", "Otto")
    olgas = await api.create_list(olga)
    item = await api.add_item(olga, olgas["id"], quantity=3)
    await api.make_viewer(olga, olgas["id"], vera)
    await api.make_viewer(olga, olgas["id"], otto)
    for name in ("Family", "Friends"):
        gid = (await _create_group(api, olga, name))["id"]
        await _add(api, platform, olga, gid, vera)
        assert (await _share_with_group(api, olga, olgas["id"], gid)).status_code == 201

    assert await _shared_with_me(api, vera) == [olgas["id"]]
    assert (await api.reserve(vera, olgas["id"], item["id"], 2)).status_code == 201
    seen_by_otto = (await api.get_list(otto, olgas["id"])).json()["items"][0]
    assert seen_by_otto["reserved_quantity"] == 2
    assert (await api.reserve(otto, olgas["id"], item["id"], 2)).status_code == 409

    # Published after every share above: once it is out, so would be any
    # event about the groups' access.
    await eventually(
        lambda: bus.of("wishlists.item_reserved.v1", lambda p: p["wishlist"]["id"] == olgas["id"]),
        message="the reservation was not announced",
    )
    # Told once, of the direct share: the groups' access came later, no news.
    assert [e.payload["via"] for e in bus.of(SHARED, lambda p: p["viewer_id"] == vera.id)] == [
        "email"
    ]


async def test_a_direct_share_to_someone_who_sees_the_list_through_a_group_is_no_news(
    api: Api, platform: Platform, bus: EventLog
) -> None:
    olga, vera = await api.users("Olga", "Vera")
    gid = (await _create_group(api, olga))["id"]
    await _add(api, platform, olga, gid, vera)
    olgas = await api.create_list(olga)
    assert (await _share_with_group(api, olga, olgas["id"], gid)).status_code == 201
    direct = await api.share(olga, olgas["id"], vera.email)
    assert (direct.status_code, direct.json()["status"]) == (201, "active")
    token = (
        await api.gateway.post(f"{API}/wishlists/{olgas['id']}/link", headers=olga.auth)
    ).json()["token"]
    joined = await api.gateway.post(f"{API}/shared/{token}/join", headers=vera.auth)
    assert joined.status_code == 200

    # An event published after the shares: once it is out, so would be theirs.
    await api.add_item(olga, olgas["id"], title="marker")
    await eventually(
        lambda: bus.of("wishlists.item_added.v1", lambda p: p["item"]["title"] == "marker")
    )
    assert [e.payload["via"] for e in bus.of(SHARED, lambda p: p["viewer_id"] == vera.id)] == [
        "group"
    ]


async def test_a_member_joining_while_a_list_is_shared_always_ends_up_seeing_it(
    api: Api, platform: Platform
) -> None:
    olga, ann = await api.users("Olga", "Ann")
    joiners = await api.users(*(f"J{n}" for n in range(12)))
    await _known(platform, *joiners)
    for joiner in joiners:
        gid = (await _create_group(api, olga))["id"]
        await _add(api, platform, olga, gid, ann)
        anns = await api.create_list(ann)
        invited, shared = await asyncio.gather(
            _invite(api, olga, gid, joiner.email),
            _share_with_group(api, ann, anns["id"], gid),
        )
        assert (invited.status_code, shared.status_code) == (201, 201)
        assert (await api.get_list(joiner, anns["id"])).status_code == 200, joiner.display_name


async def test_a_list_may_be_shared_with_twenty_groups(api: Api, platform: Platform) -> None:
    olga = await api.user("Olga")
    olgas = await api.create_list(olga)
    gids = [(await _create_group(api, olga, f"G{n}"))["id"] for n in range(21)]
    for gid in gids[:20]:
        assert (await _share_with_group(api, olga, olgas["id"], gid)).status_code == 201
    over = await _share_with_group(api, olga, olgas["id"], gids[20])
    assert (over.status_code, over.json()["type"]) == (409, "/problems/limit-reached")
    assert (await _share_with_group(api, olga, olgas["id"], gids[0])).status_code == 200


async def test_strangers_are_told_nothing_and_members_may_not_manage(
    api: Api, platform: Platform
) -> None:
    olga, ann, sam = await api.users("Olga", "Ann", "Sam")
    gid = (await _create_group(api, olga))["id"]
    anns_membership = await _add(api, platform, olga, gid, ann)
    owner_membership = (await _group_of(api, olga, gid)).json()["members"][0]["id"]
    sams = await api.create_list(sam)
    anns = await api.create_list(ann)
    base = f"{API}/groups/{gid}"
    every_route = [
        ("GET", base, None),
        ("PATCH", base, {"name": "mine"}),
        ("DELETE", base, None),
        ("POST", f"{base}/members", {"email": "friend@example.com"}),
        ("DELETE", f"{base}/members/{anns_membership}", None),
        ("DELETE", f"{base}/members/me", None),
        ("POST", f"{API}/wishlists/{sams['id']}/groups", {"group_id": gid}),
    ]
    for method, path, body in every_route:
        response = await api.gateway.request(method, path, json=body, headers=sam.auth)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"] == "/problems/not-found"
    assert (await api.gateway.get(f"{API}/groups", headers=sam.auth)).json()["items"] == []

    owners_only = [
        ("PATCH", base, {"name": "mine"}),
        ("DELETE", base, None),
        ("POST", f"{base}/members", {"email": "friend@example.com"}),
        ("DELETE", f"{base}/members/{owner_membership}", None),
    ]
    for method, path, body in owners_only:
        response = await api.gateway.request(method, path, json=body, headers=ann.auth)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["type"] == "/problems/not-group-owner"

    for path in (f"{base}/members/me", f"{base}/members/{owner_membership}"):
        stays = await api.gateway.delete(path, headers=olga.auth)
        assert (stays.status_code, stays.json()["type"]) == (409, "/problems/group-owner-stays")

    # The lists side: only the list's owner, and only with their own groups.
    await api.make_viewer(ann, anns["id"], sam)
    by_viewer = await _share_with_group(api, sam, anns["id"], gid)
    assert by_viewer.status_code == 403
    listing = await api.gateway.get(f"{API}/wishlists/{anns['id']}/groups", headers=sam.auth)
    assert listing.status_code == 403
    unknown = await _share_with_group(api, ann, anns["id"], str(uuid.uuid4()))
    assert unknown.status_code == 404
    assert (await api.get_list(olga, anns["id"])).status_code == 404


async def test_a_deleted_account_takes_its_groups_and_memberships_along(
    api: Api, platform: Platform
) -> None:
    dora, ann, ben = await api.users("Dora", "Ann", "Ben")
    doras_group = (await _create_group(api, dora))["id"]
    await _add(api, platform, dora, doras_group, ann)
    anns_group = (await _create_group(api, ann))["id"]
    await _add(api, platform, ann, anns_group, dora)
    await _add(api, platform, ann, anns_group, ben)
    anns = await api.create_list(ann)
    for gid in (doras_group, anns_group):
        assert (await _share_with_group(api, ann, anns["id"], gid)).status_code == 201

    assert (await api.gateway.delete(f"{API}/auth/me", headers=dora.auth)).status_code == 204

    async def gone() -> bool:
        return (await _group_of(api, ann, doras_group)).status_code == 404

    await eventually(gone, message="Dora's group outlived her account")
    anns_view = (await _group_of(api, ann, anns_group)).json()
    assert sorted(m["display_name"] for m in anns_view["members"]) == ["Ann", "Ben"]
    assert (await api.get_list(ben, anns["id"])).status_code == 200
    groups = await api.gateway.get(f"{API}/wishlists/{anns['id']}/groups", headers=ann.auth)
    assert [g["group_id"] for g in groups.json()["items"]] == [anns_group]
