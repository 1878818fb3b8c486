"""Wishlists' HTTP API: every route under ``/api/v1/wishlists``, ``/api/v1/shared``,
``/api/v1/reservations`` and ``/api/v1/groups``, as the gateway forwards them, and
wishlists' part of the data export (``/api/v1/me/export``, which the gateway gathers)."""

from __future__ import annotations

from fastapi import FastAPI

from wishlists.api import errors
from wishlists.api.routes import (
    export,
    groups,
    imports,
    items,
    links,
    previews,
    reservations,
    reveal,
    shares,
    suggestions,
    wishlist_groups,
    wishlists,
)

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    errors.install(app)
    # Literal paths ("/import", "/shared-with-me") must match before "/{wishlist_id}".
    for router in (
        imports.router,
        wishlists.router,
        items.router,
        suggestions.router,
        reveal.router,
        shares.router,
        wishlist_groups.router,
        reservations.items_router,
        links.router,
        reservations.mine_router,
        export.router,
        previews.router,
        groups.router,
    ):
        app.include_router(router)
