"""The web app in a real Chromium, against the whole platform.

The browser scenarios are Playwright's (``frontend/e2e``, at 1280 and 390
pixels wide); this test runs them against the running system of the
``web_app`` fixture. Screenshots land in ``frontend/test-results/screenshots``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wishlist_shared.testing.web import CHROMIUM, WebApp

# The first test to use web_app also waits for the platform and the build.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


async def test_the_browser_scenarios_pass(web_app: WebApp) -> None:
    if not await asyncio.to_thread(Path(CHROMIUM).exists):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's")
    suite = await asyncio.to_thread(
        web_app.npm, "run", "test:e2e", BASE_URL=web_app.url, CHROMIUM_PATH=CHROMIUM
    )
    assert suite.returncode == 0, suite.stdout[-8000:] + suite.stderr[-4000:]
