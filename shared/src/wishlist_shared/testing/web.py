"""The web app (``frontend/``), built for a test's gateway and served by ``next start``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.stack import Stack

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# A build of its own: the one `make run` serves points at another gateway.
DIST_DIR = ".next-e2e"


@dataclass(frozen=True)
class WebApp:
    """The running web app and the platform behind it."""

    url: str
    port: int
    stack: Stack
    frontend: Path
    env: dict[str, str]
    """The environment it was built and started with, for more ``npm`` commands."""

    @property
    def gateway_url(self) -> str:
        return self.stack.url("gateway")

    def npm(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return npm(self.frontend, *args, env={**self.env, **env})


def npm(frontend: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args], cwd=frontend, env=env, capture_output=True, text=True, check=False
    )


@contextlib.asynccontextmanager
async def serve_web_app(stack: Stack, frontend: Path) -> AsyncIterator[WebApp]:
    """Starts the platform on ``stack``, then builds and serves the web app in front of it."""
    if shutil.which("npm") is None or not (frontend / "node_modules").is_dir():
        raise RuntimeError("the web app's packages are not installed: run `make test`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await stack.start_platform(
        {
            # The links an owner copies must open this web app.
            "wishlists": {"WISHLISTS_SHARE_LINK_BASE_URL": f"{url}/shared/"},
            # Many people behind one address, many requests a minute: not abuse.
            "gateway": {"GATEWAY_RATE_LIMIT_REQUESTS": "100000"},
        }
    )
    env = {
        **os.environ,
        "NEXT_DIST_DIR": DIST_DIR,
        "NEXT_TELEMETRY_DISABLED": "1",
        "WEB_GATEWAY_URL": stack.url("gateway"),
    }
    build = npm(frontend, "run", "build", env=env)
    if build.returncode != 0:
        raise RuntimeError(f"the web app did not build:\n{build.stdout[-4000:]}{build.stderr}")

    log_path = frontend / "test-results" / "next-start.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: ASYNC220 - returns at once; polled below
            ["npm", "run", "start", "--", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=frontend,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: npm's children (the Next server) end with it.
            start_new_session=True,
        )
    try:
        async with httpx.AsyncClient(timeout=5) as client:

            async def serving() -> bool:
                try:
                    return (await client.get(f"{url}/login")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(serving, timeout=60, message=f"the web app never answered; {log_path}")
        yield WebApp(url=url, port=port, stack=stack, frontend=frontend, env=env)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
