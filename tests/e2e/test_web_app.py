"""The web app in a real Chromium, against the whole platform started for this test.

The browser scenarios are Playwright's (``frontend/e2e``); this test gives
them a system to run against: every service and the gateway on this test's
servers, and the web app built for that gateway and served by ``next start``.
Screenshots land in ``frontend/test-results/screenshots``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# A build of its own: the one `make run` serves points at another gateway.
DIST_DIR = ".next-e2e"


def _npm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=FRONTEND, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def web_env() -> dict[str, str]:
    if shutil.which("npm") is None or not (FRONTEND / "node_modules").is_dir():
        pytest.fail("the web app's packages are not installed: run `make test`, not bare pytest")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's")
    return {
        **os.environ,
        "NEXT_DIST_DIR": DIST_DIR,
        "NEXT_TELEMETRY_DISABLED": "1",
        "CHROMIUM_PATH": CHROMIUM,
    }


@pytest.fixture
def web_server() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Where the test puts the web server it starts (in its own process group), to end it."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


async def test_the_browser_scenarios_pass(
    stack: Stack, web_env: dict[str, str], web_server: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    await stack.start_platform(
        {
            # The links the owner copies must open this test's web app.
            "wishlists": {"WISHLISTS_SHARE_LINK_BASE_URL": f"{web_url}/shared/"},
            # Three people behind one address, many requests a minute: not abuse.
            "gateway": {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"},
        }
    )
    env = {**web_env, "WEB_GATEWAY_URL": stack.url("gateway"), "BASE_URL": web_url}

    build = await asyncio.to_thread(_npm, "run", "build", env=env)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]

    log = (FRONTEND / "test-results").joinpath("next-start.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        web_server.append(
            subprocess.Popen(  # noqa: ASYNC220 - returns at once; polled below
                ["npm", "run", "start", "--", "--hostname", "127.0.0.1", "--port", str(port)],
                cwd=FRONTEND,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    async with httpx.AsyncClient(timeout=5) as client:

        async def serving() -> bool:
            try:
                return (await client.get(f"{web_url}/login")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(serving, timeout=60, message=f"the web app never answered; see {log}")

    suite = await asyncio.to_thread(_npm, "run", "test:e2e", env=env)
    assert suite.returncode == 0, suite.stdout[-8000:] + suite.stderr[-4000:]
