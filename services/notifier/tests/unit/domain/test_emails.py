"""What emails say, and when a failed one is tried again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from notifier.domain import emails
from notifier.domain import notifications as rules
from notifier.domain.emails import EmailPreferences
from notifier.domain.notifications import item_reserved, reserved_item_removed
from wishlist_shared.events import (
    GroupInvited,
    GroupMemberAdded,
    GroupRef,
    ItemDeleted,
    ItemReceived,
    ItemReserved,
    ItemSnapshot,
    ItemSuggested,
    PasswordResetRequested,
    ShareInvited,
    WishlistRef,
    WishlistRevealed,
)
from wishlist_shared.testing.snapshots import item_snapshot

WEB = "https://wishes.example.org/"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def ref(owner_name: str | None = "Ana", title: str = "Birthday") -> WishlistRef:
    return WishlistRef(
        id=uuid.uuid4(),
        title=title,
        owner_id=uuid.uuid4(),
        owner_display_name=owner_name,
        occasion_date=None,
    )


def item(title: str = "Kite") -> ItemSnapshot:
    return item_snapshot(title, created_at=NOW, updated_at=NOW)


def test_an_invitation_names_owner_and_list_and_links_to_registering_with_the_address() -> None:
    invite = ShareInvited(wishlist=ref(), share_id=uuid.uuid4(), email="Bo+gifts@example.com")
    email = emails.invitation(invite, WEB)
    assert email.subject == "Ana shared \u201cBirthday\u201d with you"
    assert "Ana shared 'Birthday' with you \u2014 create an account to see it:" in email.text
    (link,) = [w for w in email.text.split() if w.startswith("https://")]
    assert link == "https://wishes.example.org/register?email=Bo%2Bgifts%40example.com"
    # Decoded, it is exactly the address (a "+" left raw would read as a space).
    assert parse_qs(urlsplit(link).query) == {"email": ["Bo+gifts@example.com"]}


def test_an_invitation_from_a_nameless_owner_says_someone() -> None:
    invite = ShareInvited(wishlist=ref(owner_name=None), share_id=uuid.uuid4(), email="b@x.org")
    assert emails.invitation(invite, WEB).subject.startswith("Someone shared")


def group_ref(owner_name: str | None = "Ana") -> GroupRef:
    return GroupRef(
        id=uuid.uuid4(), name="Family", owner_id=uuid.uuid4(), owner_display_name=owner_name
    )


def test_a_group_invitation_names_owner_and_group_and_links_to_registering() -> None:
    invite = GroupInvited(group=group_ref(), membership_id=uuid.uuid4(), email="Bo+x@example.com")
    email = emails.group_invitation(invite, WEB)
    assert email.subject == "Ana invited you to the group \u201cFamily\u201d"
    (link,) = [w for w in email.text.split() if w.startswith("https://")]
    assert parse_qs(urlsplit(link).query) == {"email": ["Bo+x@example.com"]}
    assert urlsplit(link).path == "/register"
    nameless = GroupInvited(
        group=group_ref(owner_name=None), membership_id=uuid.uuid4(), email="b@x.org"
    )
    assert emails.group_invitation(nameless, WEB).subject.startswith("Someone invited you")


def test_the_new_kinds_render_their_lines_and_links() -> None:
    wishlist, group = ref(title="Wedding"), group_ref()
    recipients = (uuid.uuid4(),)
    added = rules.added_to_group(
        GroupMemberAdded(group=group, member_id=uuid.uuid4(), recipient_ids=recipients)
    )
    suggested = rules.item_suggested(
        ItemSuggested(
            wishlist=wishlist,
            item=item("Kite"),
            suggested_by_id=uuid.uuid4(),
            suggested_by_display_name="Bo",
            recipient_ids=recipients,
        )
    )
    received = rules.item_received(
        ItemReceived(wishlist=wishlist, item=item("Lamp"), viewer_ids=(), recipient_ids=recipients)
    )
    revealed = rules.wishlist_revealed(
        WishlistRevealed(
            wishlist=wishlist, revealed_at=NOW, received_items=(), recipient_ids=recipients
        )
    )
    mails = {
        p.kind: emails.notification(p.kind, p.data, WEB)
        for p in (added, suggested, received, revealed)
    }
    assert mails["added_to_group"].subject == "Ana added you to the group \u201cFamily\u201d"
    assert f"https://wishes.example.org/groups/{group.id}" in mails["added_to_group"].text
    assert mails["item_suggested"].subject == "Bo suggested Kite for \u201cWedding\u201d"
    assert mails["item_received"].subject == "Ana received Lamp, which you reserved"
    assert mails["wishlist_revealed"].subject == "Ana revealed \u201cWedding\u201d"
    for kind in ("item_suggested", "item_received", "wishlist_revealed"):
        assert f"https://wishes.example.org/wishlists/{wishlist.id}" in mails[kind].text
    digest = emails.digest([(added.kind, added.data), (suggested.kind, suggested.data)], WEB)
    assert f"/groups/{group.id}" in digest.text
    assert f"/wishlists/{wishlist.id}" in digest.text


def test_every_kind_can_be_chosen_for_email() -> None:
    chosen = EmailPreferences.model_validate({"kinds": list(reversed(emails.KINDS))})
    assert chosen.kinds == emails.KINDS
    assert {"added_to_group", "item_suggested", "item_received", "wishlist_revealed"} <= set(
        chosen.kinds
    )


def test_a_reset_link_carries_the_token_in_the_fragment_and_says_when_it_expires() -> None:
    reset = PasswordResetRequested(
        user_id=uuid.uuid4(),
        email="a@example.com",
        display_name="Ana",
        reset_token="abc/def+ghi=",
        expires_at=NOW + timedelta(minutes=30),
    )
    email = emails.password_reset(reset, WEB, NOW)
    (link,) = [w for w in email.text.split() if w.startswith("https://")]
    parts = urlsplit(link)
    assert (parts.path, parts.query) == ("/reset-password", "")
    assert parts.fragment == "token=abc%2Fdef%2Bghi%3D"
    assert "expires in 30 minutes" in email.text
    assert "ignore this email" in email.text


def test_reservation_emails_never_name_whoever_reserved() -> None:
    wishlist, thing = ref(), item("Telescope")
    planned = item_reserved(
        ItemReserved(
            wishlist=wishlist, item=thing, reserved_quantity=1, recipient_ids=(uuid.uuid4(),)
        )
    )
    email = emails.notification(planned.kind, planned.data, WEB)
    assert email.subject == "Someone reserved Telescope on \u201cBirthday\u201d"
    assert f"https://wishes.example.org/wishlists/{wishlist.id}" in email.text
    # The data a reservation email is made from has no reserver in it at all.
    assert set(planned.data) == {"wishlist", "item", "reserved_quantity"}


def test_every_kind_renders_a_line_with_its_list() -> None:
    wishlist = ref(title="Wedding")
    deleted = reserved_item_removed(
        ItemDeleted(
            wishlist=wishlist,
            item=item("Lamp"),
            viewer_ids=(uuid.uuid4(),),
            recipient_ids=(uuid.uuid4(),),
        )
    )
    shared = {"wishlist": emails_data(wishlist), "share_id": "x", "via": "email"}
    added = {"wishlist": emails_data(wishlist), "item": {"title": "Mug"}}
    entries = [("wishlist_shared", shared), ("item_added", added), (deleted.kind, deleted.data)]
    digest = emails.digest(entries, WEB)  # type: ignore[arg-type]
    assert digest.subject == "Your wishlists digest: 3 updates"
    assert digest.text.count(f"/wishlists/{wishlist.id}") == 3
    assert "Ana shared \u201cWedding\u201d with you" in digest.text
    assert "New on \u201cWedding\u201d: Mug" in digest.text
    assert "Lamp, which you reserved, was removed from \u201cWedding\u201d" in digest.text


def emails_data(wishlist: WishlistRef) -> dict[str, object]:
    return {
        "id": str(wishlist.id),
        "title": wishlist.title,
        "owner_id": str(wishlist.owner_id),
        "owner_display_name": wishlist.owner_display_name,
        "occasion_date": None,
    }


def test_backoff_doubles_up_to_the_cap_and_jitter_takes_at_most_half() -> None:
    no_jitter = [emails.backoff(n, 30, 3600, rand=lambda: 0.0) for n in range(1, 10)]
    assert no_jitter == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    most_jitter = [emails.backoff(n, 30, 3600, rand=lambda: 1.0) for n in (1, 2, 9)]
    assert most_jitter == [15, 30, 1800]
    assert 15 <= emails.backoff(1, 30, 3600) <= 30


def test_preferences_are_off_by_default() -> None:
    assert EmailPreferences().model_dump() == {"kinds": (), "delivery": "immediate"}


def test_preferences_keep_each_kind_once_in_a_fixed_order() -> None:
    chosen = EmailPreferences.model_validate(
        {"kinds": ["item_reserved", "item_added", "item_reserved"], "delivery": "daily"}
    )
    assert chosen.kinds == ("item_added", "item_reserved")


@pytest.mark.parametrize(
    "body",
    [
        {"kinds": ["item_added", "password_reset"]},
        {"kinds": ["everything"]},
        {"kinds": [], "delivery": "weekly"},
        {"kinds": "item_added"},
    ],
)
def test_unknown_kinds_and_deliveries_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EmailPreferences.model_validate(body)
