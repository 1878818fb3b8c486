"""Wishlists' HTTP API: every route under ``/api/v1/wishlists``, ``/api/v1/shared`` and
``/api/v1/reservations``, as the gateway forwards them."""

from __future__ import annotations

from fastapi import FastAPI

from wishlists.api import errors
from wishlists.api.routes import items, links, reservations, shares, wishlists

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    errors.install(app)
    # Wishlists first: its literal "/shared-with-me" must match before "/{wishlist_id}".
    for router in (
        wishlists.router,
        items.router,
        shares.router,
        reservations.items_router,
        links.router,
        reservations.mine_router,
    ):
        app.include_router(router)
