"""The whole platform and the web app, running, for the tests that drive them from outside.

Started once per test session (the web app's production build takes a while);
each test makes its own users, so they do not depend on each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wishlist_shared.testing.stack import Stack
from wishlist_shared.testing.web import WebApp, serve_web_app

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


@pytest.fixture(scope="session")
async def web_app(session_stack: Stack) -> AsyncIterator[WebApp]:
    async with serve_web_app(session_stack, FRONTEND) as app:
        yield app
