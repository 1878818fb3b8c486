"""Addresses an invitation is mailed to: one mailbox each, checked as auth checks them.

A share or a group invitation to an address nobody registered yet mails an
invitation there. A loose rule (one "@" and a dot) let ``root,victim@x.com``
through, an address that many mail systems read as two recipients; the
services now check addresses with ``email-validator``, as auth does on
registration (``wishlists.domain.validation.share_email``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

SMUGGLING = [
    "root,victim@example.com",
    "root@example.com,victim@example.com",
    "root;victim@example.com",
    '"root,victim"@example.com',
    "root@example.com\nBcc: victim@example.com",
]


@pytest.mark.parametrize("address", SMUGGLING)
async def test_a_share_or_invitation_names_one_mailbox_or_is_refused(
    platform: Platform, address: str
) -> None:
    owner = await platform.person("Ines")
    wishlist = await platform.ok(owner, "POST", "/wishlists", {"title": "Birthday"})
    group = await platform.ok(owner, "POST", "/groups", {"name": "Family"})

    share = await platform.call(
        owner, "POST", f"/wishlists/{wishlist['id']}/shares", {"email": address}
    )
    member = await platform.call(
        owner, "POST", f"/groups/{group['id']}/members", {"email": address}
    )

    for refused in (share, member):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "body.email"
    shares = await platform.ok(owner, "GET", f"/wishlists/{wishlist['id']}/shares")
    assert shares["items"] == []
