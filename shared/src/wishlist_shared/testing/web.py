"""The web app (``frontend/``), built for a test's gateway and served by ``next start``."""

from __future__ import annotations

import contextlib
import html
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.smtp import SmtpSink
from wishlist_shared.testing.stack import UNTHROTTLED, Stack

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


class _FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sink: SmtpSink) -> None:
        super().__init__(("127.0.0.1", 0), _Fixtures)
        self.sink = sink

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Fixtures(BaseHTTPRequestHandler):
    """What the browser scenarios need from outside the platform, on 127.0.0.1.

    ``/product?title=&price=&currency=`` is a shop's product page (JSON-LD)
    for link previews to read; ``/picture.svg`` its picture; ``/mail?to=``
    the emails the platform sent to an address, as JSON, for a scenario to
    follow the link in one (a password reset).
    """

    server: _FixtureServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/product":
            name = query.get("title", "A product")
            product = {
                "@context": "https://schema.org",
                "@type": "Product",
                "name": name,
                "image": "/picture.svg",
                "offers": {
                    "@type": "Offer",
                    "price": query.get("price", "10.00"),
                    "priceCurrency": query.get("currency", "EUR"),
                },
            }
            ld = json.dumps(product).replace("<", "\\u003c")
            title = html.escape(name)
            body = (
                f"<!doctype html><html><head><title>{title}</title>"
                f'<script type="application/ld+json">{ld}</script></head>'
                f"<body><h1>{title}</h1></body></html>"
            )
            self._send(200, "text/html; charset=utf-8", body)
        elif url.path == "/picture.svg":
            svg = (
                '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
                '<rect width="4" height="4" fill="#c084fc"/></svg>'
            )
            self._send(200, "image/svg+xml", svg)
        elif url.path == "/mail":
            mails = self.server.sink.to(query.get("to", ""))
            found = [{"subject": m.subject, "text": m.text, "links": m.links()} for m in mails]
            self._send(200, "application/json", json.dumps(found))
        else:
            self._send(404, "text/plain", "not found")

    def _send(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the scenarios' output is the browser's."""


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
    sink = SmtpSink()
    sink.start()
    fixtures = _FixtureServer(sink)
    threading.Thread(target=fixtures.serve_forever, daemon=True).start()
    try:
        async with _serve(stack, frontend, port, sink, fixtures) as app:
            yield app
    finally:
        fixtures.shutdown()
        fixtures.server_close()
        sink.stop()


@contextlib.asynccontextmanager
async def _serve(
    stack: Stack, frontend: Path, port: int, sink: SmtpSink, fixtures: _FixtureServer
) -> AsyncIterator[WebApp]:
    url = f"http://127.0.0.1:{port}"
    await stack.start_platform(
        {
            # The links an owner copies must open this web app.
            "wishlists": {
                "WISHLISTS_SHARE_LINK_BASE_URL": f"{url}/shared/",
                # The scenarios' shop is on loopback, which previews otherwise refuse.
                "WISHLISTS_LINK_PREVIEW_TEST_ALLOWED_ADDRESSES": fixtures.address,
            },
            # Emails go to the sink; their links open this web app.
            "notifier": {**sink.notifier_settings(), "NOTIFIER_WEB_URL": url},
            # Many people behind one address, many requests a minute, and the
            # scenarios' own wrong passwords and bogus reset links: not abuse.
            "gateway": UNTHROTTLED["gateway"],
            "auth": {
                "AUTH_LOGIN_FAILURES_PER_ADDRESS": UNTHROTTLED["auth"][
                    "AUTH_LOGIN_FAILURES_PER_ADDRESS"
                ],
            },
        }
    )
    env = {
        **os.environ,
        "NEXT_DIST_DIR": DIST_DIR,
        "NEXT_TELEMETRY_DISABLED": "1",
        "WEB_GATEWAY_URL": stack.url("gateway"),
        # For the scenarios (frontend/e2e/helpers.ts): the shop and the mailbox.
        "E2E_FIXTURES_URL": f"http://{fixtures.address}",
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
