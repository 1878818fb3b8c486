"""The notifier's HTTP API: every route under ``/api/v1/notifications``, as the gateway
forwards them."""

from __future__ import annotations

from fastapi import FastAPI

from notifier.api.routes import notifications

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    app.include_router(notifications.router)
