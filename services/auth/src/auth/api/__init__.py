"""Auth's HTTP API: every route under ``/api/v1/auth``, as the gateway forwards it."""

from __future__ import annotations

from fastapi import FastAPI

from auth.api.routes import PREFIX, accounts, keys, sessions

__all__ = ["PREFIX", "mount"]


def mount(app: FastAPI) -> None:
    for feature in (accounts, sessions, keys):
        app.include_router(feature.router)
