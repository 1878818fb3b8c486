"""The notifier's HTTP API: every route under ``/api/v1/notifications``, as the gateway
forwards them, and its part of the data export (``/api/v1/me/export``, which the gateway
gathers)."""

from __future__ import annotations

from fastapi import FastAPI

from notifier.api.routes import email_preferences, export, notifications

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    app.include_router(notifications.router)
    app.include_router(email_preferences.router)
    app.include_router(export.router)
