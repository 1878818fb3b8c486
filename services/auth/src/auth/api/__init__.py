"""Auth's HTTP API: every route under ``/api/v1/auth``, as the gateway forwards it, and
auth's part of the data export (``/api/v1/me/export``, which the gateway gathers)."""

from __future__ import annotations

from fastapi import FastAPI

from auth.api.routes import PREFIX, accounts, export, keys, password_resets, sessions

__all__ = ["PREFIX", "mount"]


def mount(app: FastAPI) -> None:
    for feature in (accounts, sessions, password_resets, keys, export):
        app.include_router(feature.router)
