"""Sharing a list, by email and by link: ``/api/v1/wishlists/{id}/shares`` and ``/link``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from wishlists.api.access import hold, reach
from wishlists.api.deps import Claims, DbSession, PageParams, RuntimeDep
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import LinkOut, ShareCreate, ShareOut, SharePage
from wishlists.db import locks, scope, users
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain import links
from wishlists.domain.access import require_owner
from wishlists.domain.errors import FieldError, InvalidInput, LimitReached, ShareNotFound
from wishlists.domain.limits import MAX_SHARES_PER_WISHLIST
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["shares"])


@router.post(
    "/{wishlist_id}/shares",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ShareOut, "description": "Already shared with this address"}},
)
async def share_by_email(
    wishlist_id: uuid.UUID, body: ShareCreate, claims: Claims, db: DbSession, response: Response
) -> ShareOut:
    """Shares the list with an address: active at once if someone registered with it,
    pending otherwise: the address is sent an invitation (when the platform
    sends email), and the share activates when someone registers with it.
    Sharing again with the same address answers 200 with the existing share.
    """
    owner = claims.subject
    async with scope.for_user(db, owner):
        reached = await reach(db, wishlist_id, owner)
        require_owner(reached.role)
        await locks.lock_email(db, body.email)
        viewer = await users.user_with_email(db, body.email)
        if viewer == owner or body.email == await users.email_of(db, owner):
            raise InvalidInput([FieldError("body.email", "is your own address")])
        await hold(db, wishlist_id)
        if await share_rows.count(db, wishlist_id) >= MAX_SHARES_PER_WISHLIST:
            raise LimitReached("shares per wishlist", MAX_SHARES_PER_WISHLIST)
        # Someone who sees the list through a group gets a share of their own,
        # which outlasts the group's, but no news: they saw it already.
        seen = viewer is not None and await share_rows.is_viewer(db, wishlist_id, viewer)
        share, created = await share_rows.add(
            db, reached.wishlist, via="email", email=body.email, viewer_id=viewer
        )
        if created and share.viewer_id is not None and not seen:
            await publishing.wishlist_shared(
                db, reached.wishlist, share_id=share.id, viewer_id=share.viewer_id, via="email"
            )
        elif created and share.viewer_id is None and share.email is not None:
            # Only a new share invites: sharing again answers with the existing
            # one, and the address is not mailed twice.
            await publishing.share_invited(
                db, reached.wishlist, share_id=share.id, email=share.email
            )
    if not created:
        response.status_code = status.HTTP_200_OK
    return ShareOut.of(share)


@router.get("/{wishlist_id}/shares")
async def list_shares(
    wishlist_id: uuid.UUID, claims: Claims, db: DbSession, page: PageParams
) -> SharePage:
    """Who the list is shared with, pending addresses included, newest first."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        found = await share_rows.page_of_wishlist(db, wishlist_id, page)
    return SharePage(items=[ShareOut.of(s) for s in found.items], next_cursor=found.next_cursor)


@router.delete("/{wishlist_id}/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(
    wishlist_id: uuid.UUID, share_id: uuid.UUID, claims: Claims, db: DbSession
) -> Response:
    """The viewer loses access at once, but for what a group they are in gives them.
    Their reservations stay, still hidden from the owner and still counted for the
    other viewers (the gift may be bought already).
    """
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        if not await share_rows.remove(db, wishlist_id, share_id):
            raise ShareNotFound()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{wishlist_id}/link", status_code=status.HTTP_201_CREATED)
async def create_link(
    wishlist_id: uuid.UUID, claims: Claims, db: DbSession, runtime: RuntimeDep
) -> LinkOut:
    """A new read-only link; an earlier one stops working."""
    token = links.new_token()
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        await wishlist_rows.set_link(db, wishlist_id, links.token_hash(token))
    return LinkOut(token=token, url=f"{runtime.settings.share_link_base_url}{token}")


@router.delete("/{wishlist_id}/link", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_link(wishlist_id: uuid.UUID, claims: Claims, db: DbSession) -> Response:
    """The link stops working; viewers who joined through it stay viewers."""
    async with scope.for_user(db, claims.subject):
        reached = await reach(db, wishlist_id, claims.subject)
        require_owner(reached.role)
        await wishlist_rows.set_link(db, wishlist_id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
