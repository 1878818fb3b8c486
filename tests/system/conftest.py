"""The platform as users meet it, for the system tests that drive it through the gateway."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from wishlist_shared.testing.stack import Stack

# importlib mode puts no test directory on sys.path; the helper module is
# imported by name from here.
sys.path.insert(0, str(Path(__file__).parent))

from live_platform import GATEWAY_LIMITS, Platform


@pytest.fixture
async def platform(stack: Stack) -> AsyncIterator[Platform]:
    """Every service and the gateway, running and ready; a module may define its own."""
    await stack.start_platform(GATEWAY_LIMITS)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30) as http:
        yield Platform(stack, http)
