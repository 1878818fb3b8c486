"""Link previews: ``POST /api/v1/link-preview`` reads a product page to pre-fill an item.

The one route that makes the server fetch a URL a user chose; how that is
kept from reaching anything but the public web is :mod:`wishlists.previews`.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request

from wishlist_shared.problems import Problem, ProblemType
from wishlists.api.deps import Claims
from wishlists.api.routes import LINK_PREVIEW
from wishlists.api.schemas import LinkPreviewOut, LinkPreviewRequest
from wishlists.previews.previewer import LinkPreviewer

router = APIRouter(prefix=LINK_PREVIEW, tags=["link-preview"])

RATE_LIMITED = ProblemType(429, "rate-limited", "Too Many Requests")


async def get_previewer(request: Request) -> LinkPreviewer:
    return cast(LinkPreviewer, request.app.state.link_previewer)


Previewer = Annotated[LinkPreviewer, Depends(get_previewer)]


@router.post(
    "",
    responses={
        422: {"description": "Not a link that may be fetched (`/problems/url-not-allowed`)"},
        429: {"description": "Too many previews; retry after `Retry-After` seconds"},
        502: {"description": "The page could not be read (`/problems/link-unreadable`)"},
    },
)
async def preview_link(
    body: LinkPreviewRequest, claims: Claims, previewer: Previewer
) -> LinkPreviewOut:
    """What the page at `url` says about its product: title, image, price.

    Each field is null when the page does not say it (or says it in a way an
    item could not hold). Cached for everyone for a while; rate-limited per user.
    """
    # Counted before anything else: refused links cost budget too, so that
    # probing for reachable addresses is as slow as anything else.
    window = await previewer.requests.hit(f"user:{claims.subject}")
    if window.exceeds(previewer.rate_limit):
        raise Problem(
            RATE_LIMITED,
            f"Too many link previews; retry in {window.retry_after} s.",
            headers={"Retry-After": str(window.retry_after)},
        )
    return LinkPreviewOut.of(await previewer.preview(body.url))
