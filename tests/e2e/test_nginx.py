"""nginx in front of the running platform: what its configuration promises, proven over the wire.

nginx runs with the configuration of ``deploy/nginx`` (rendered from its
templates, as the official image does) and the development certificate of
``dev-cert.sh``, in front of the gateway and the web app of the ``web_app``
fixture. Clients trust that certificate's CA: nothing here skips TLS checks
except the browser run, which cannot be handed a CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import ssl
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port
from wishlist_shared.testing.web import CHROMIUM, WebApp

# The first test to use web_app also waits for the platform and the build.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
API = "/api/v1"
PASSWORD = "correct horse battery"
RECEIVE_TIMEOUT = 15.0
# Generous: every test of the session comes from 127.0.0.1. The rate-limit
# test starts an nginx of its own with strict ones.
GENEROUS_LIMITS = {
    "NGINX_WEB_RATE": "1000r/s",
    "NGINX_WEB_BURST": "1000",
    "NGINX_API_RATE": "1000r/s",
    "NGINX_API_BURST": "1000",
    "NGINX_AUTH_RATE": "100r/s",
    "NGINX_AUTH_BURST": "100",
}


def load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nginx_render", NGINX_DIR / "render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("nginx_render", module)
    spec.loader.exec_module(module)
    return module


render = load_renderer()


@dataclass(frozen=True)
class Edge:
    """A running nginx: HTTPS at ``url``, plain HTTP at ``http_url``."""

    url: str
    http_url: str
    https_port: int
    tls: ssl.SSLContext
    log: Path

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, verify=self.tls, timeout=20, **kwargs)


@contextlib.asynccontextmanager
async def run_nginx(
    web_app: WebApp, folder: Path, overrides: Mapping[str, str]
) -> AsyncIterator[Edge]:
    """nginx with deploy/nginx's configuration in front of ``web_app``, until the block ends."""
    if not await asyncio.to_thread(Path(NGINX).exists):
        pytest.fail("no nginx: `make test` installs Debian's (apt-get install nginx)")
    certs = folder / "certs"
    dev_cert = await asyncio.create_subprocess_exec(
        "sh", str(NGINX_DIR / "dev-cert.sh"), str(certs), stdout=asyncio.subprocess.DEVNULL
    )
    assert await dev_cert.wait() == 0
    https_port, http_port = free_port(), free_port()
    values = {
        **render.read_env_file(render.ENV_FILE),
        "NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        "NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "NGINX_SERVER_NAME": "127.0.0.1 localhost",
        "NGINX_PUBLIC_ORIGIN": f"https://127.0.0.1:{https_port}",
        "NGINX_SSL_CERTIFICATE": str(certs / "tls.crt"),
        "NGINX_SSL_CERTIFICATE_KEY": str(certs / "tls.key"),
        "NGINX_GATEWAY_UPSTREAM": web_app.gateway_url.removeprefix("http://"),
        "NGINX_FRONTEND_UPSTREAM": web_app.url.removeprefix("http://"),
        **overrides,
    }
    runtime = folder / "run"
    runtime.mkdir(parents=True)
    conf, *_ = render.write_config(
        folder / "etc", values, runtime_dir=runtime, mime_types=MIME_TYPES
    )
    # As root, nginx would hand its workers to `nobody`, who may not enter
    # pytest's private temporary folders; any other user runs them itself.
    settings = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    log = folder / "nginx.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(runtime), "-c", str(conf), "-g", settings, stdout=out, stderr=out
        )
    tls = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    edge = Edge(
        url=f"https://127.0.0.1:{https_port}",
        http_url=f"http://127.0.0.1:{http_port}",
        https_port=https_port,
        tls=tls,
        log=log,
    )
    try:
        async with httpx.AsyncClient(timeout=2) as client:

            async def serving() -> bool:
                assert process.returncode is None, log.read_text()
                try:
                    return (await client.get(f"{edge.http_url}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(serving, timeout=20, message="nginx never answered")
        yield edge
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


@pytest.fixture(scope="module")
async def edge(web_app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:
    async with run_nginx(web_app, tmp_path_factory.mktemp("nginx"), GENEROUS_LIMITS) as running:
        yield running


@dataclass
class Person:
    id: str
    email: str
    headers: dict[str, str]


async def person(http: httpx.AsyncClient, name: str) -> Person:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    registered = await http.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    login = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    return Person(registered.json()["id"], email, {"Authorization": f"Bearer {token}"})


def assert_security_headers(response: httpx.Response, edge: Edge) -> None:
    headers = response.headers
    assert headers.get_list("strict-transport-security") == ["max-age=31536000"]
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("referrer-policy") == ["strict-origin-when-cross-origin"]
    assert headers.get_list("x-frame-options") == ["DENY"]
    [csp] = headers.get_list("content-security-policy")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert f"wss://127.0.0.1:{edge.https_port}" in directives["connect-src"]


async def test_the_api_answers_through_nginx_over_https(edge: Edge) -> None:
    async with edge.client() as http:
        ann = await person(http, "Ann")
        me = await http.get(f"{API}/auth/me", headers=ann.headers)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == ann.email
        # The correlation id nginx hands on comes back from the gateway.
        traced = await http.get(f"{API}/auth/me", headers={**ann.headers, "X-Request-ID": "abc123"})
        assert traced.headers["x-request-id"] == "abc123"

        # The browser's session: the refresh cookie crosses nginx both ways.
        cookie_mode = {"X-Refresh-Token-Transport": "cookie"}
        login = await http.post(
            f"{API}/auth/login",
            json={"email": ann.email, "password": PASSWORD},
            headers=cookie_mode,
        )
        assert login.status_code == 200, login.text
        assert "Secure" in login.headers["set-cookie"]
        refreshed = await http.post(f"{API}/auth/refresh", headers=cookie_mode)
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["access_token"]


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    assert message["type"] == "notification", message
    notification: dict[str, Any] = message["notification"]
    return notification


async def socket_url(http: httpx.AsyncClient, edge: Edge, who: Person) -> str:
    ticket = await http.post(f"{API}/realtime/ticket", headers=who.headers)
    assert ticket.status_code == 200, ticket.text
    return f"wss://127.0.0.1:{edge.https_port}/ws?ticket={ticket.json()['ticket']}"


async def test_a_notification_reaches_a_socket_opened_through_nginx(edge: Edge) -> None:
    async with edge.client() as http:
        owner, friend = await person(http, "Olive"), await person(http, "Felix")
        url = await socket_url(http, edge, friend)
        async with connect(url, ssl=edge.tls, open_timeout=10) as ws:
            wishlist = await http.post(
                f"{API}/wishlists", json={"title": "Birthday"}, headers=owner.headers
            )
            assert wishlist.status_code == 201, wishlist.text
            share = await http.post(
                f"{API}/wishlists/{wishlist.json()['id']}/shares",
                json={"email": friend.email},
                headers=owner.headers,
            )
            assert share.status_code == 201, share.text

            notification = await receive(ws)

        assert notification["kind"] == "wishlist_shared"
        assert notification["data"]["wishlist"]["id"] == wishlist.json()["id"]


async def test_tickets_and_share_tokens_stay_out_of_the_access_log(edge: Edge) -> None:
    token = uuid.uuid4().hex
    async with edge.client() as http:
        viewer = await person(http, "Tomas")
        url = await socket_url(http, edge, viewer)
        ticket = url.rsplit("=", 1)[1]
        async with connect(url, ssl=edge.tls, open_timeout=10):
            pass
        assert (await http.get(f"{API}/shared/{token}")).status_code == 404
        assert (
            await http.post(f"{API}/shared/{token}/join", headers=viewer.headers)
        ).status_code == 404
        await http.get(f"/shared/{token}")

    def logged_paths() -> list[str]:
        lines = edge.log.read_text().splitlines()
        return [json.loads(line)["path"] for line in lines if line.startswith("{")]

    async def all_logged() -> bool:
        paths = await asyncio.to_thread(logged_paths)
        return {
            f"{API}/shared/[redacted]",
            f"{API}/shared/[redacted]/join",
            "/shared/[redacted]",
            "/ws",
        } <= set(paths)

    await eventually(all_logged, timeout=10, message="the requests never reached the access log")
    text = await asyncio.to_thread(edge.log.read_text)
    assert token not in text
    assert ticket not in text


async def refusal(url: str, tls: ssl.SSLContext) -> int:
    """The status that refused the handshake, or the close code of the socket; 0: neither."""
    try:
        async with connect(url, ssl=tls, open_timeout=10) as ws:
            await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
    except InvalidStatus as refused:
        return refused.response.status_code
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else -1
    return 0


async def test_a_socket_with_a_bad_ticket_is_refused_through_nginx(edge: Edge) -> None:
    url = f"wss://127.0.0.1:{edge.https_port}/ws?ticket=not-a-ticket"
    assert await refusal(url, edge.tls) in (401, 403, 4401)


async def test_pages_and_api_answers_carry_the_security_headers(edge: Edge) -> None:
    async with edge.client() as http:
        page = await http.get("/login")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert_security_headers(page, edge)

        api = await http.get(f"{API}/auth/jwks.json")
        assert api.status_code == 200
        assert_security_headers(api, edge)

        refused = await http.get(f"{API}/auth/me")
        assert refused.status_code == 401
        assert_security_headers(refused, edge)

        # Swagger UI has a policy of its own: its inline start-up script, and
        # its assets from this origin only (the gateway serves them).
        docs = await http.get("/api/docs")
        assert docs.status_code == 200
        [docs_csp] = docs.headers.get_list("content-security-policy")
        directives = {d.split()[0]: d.split()[1:] for d in docs_csp.split("; ")}
        assert directives["script-src"] == ["'self'", "'unsafe-inline'"]
        assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "https:" not in docs_csp
        for asset in re.findall(r'(?:src|href)="([^"]+)"', docs.text):
            loaded = await http.get(asset)
            assert loaded.status_code == 200, asset


async def test_plain_http_redirects_to_https(edge: Edge) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{edge.http_url}/wishlists?tab=mine", headers={"Host": "evil"})
    assert response.status_code == 301
    assert response.headers["location"] == f"{edge.url}/wishlists?tab=mine"


async def test_text_is_compressed_by_nginx(edge: Edge, web_app: WebApp) -> None:
    async with edge.client() as http:
        document = await http.get(f"{API}/openapi.json", headers={"Accept-Encoding": "gzip"})
        page = await http.get("/login", headers={"Accept-Encoding": "gzip"})
    assert document.status_code == 200
    assert document.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in document.headers["vary"]
    assert document.json()["openapi"]
    assert page.headers["content-encoding"] == "gzip"
    # The gateway itself does not compress: nginx did.
    async with httpx.AsyncClient(timeout=10) as direct:
        plain = await direct.get(
            f"{web_app.gateway_url}{API}/openapi.json", headers={"Accept-Encoding": "gzip"}
        )
    assert "content-encoding" not in plain.headers


async def test_the_web_apps_build_assets_are_cached_for_good(edge: Edge) -> None:
    async with edge.client() as http:
        page = await http.get("/login")
        assets = re.findall(r"/_next/static/[^\"'\s]+?\.(?:js|css)", page.text)
        assert assets, "the page names no build asset"
        asset = await http.get(assets[0], headers={"Accept-Encoding": "gzip"})
        missing = await http.get("/_next/static/chunks/no-such-file.js")
    assert asset.status_code == 200
    assert asset.headers.get_list("cache-control") == ["public, max-age=31536000, immutable"]
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.headers.get_list("x-content-type-options") == ["nosniff"]
    assert asset.content
    # A name that does not exist (yet) must not be cached for a year.
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


async def test_the_gateways_metrics_are_not_reachable_through_nginx(
    edge: Edge, web_app: WebApp
) -> None:
    async with httpx.AsyncClient(timeout=10) as direct:
        inside = await direct.get(f"{web_app.gateway_url}/metrics")
    assert inside.status_code == 200
    assert "# HELP" in inside.text
    # Next.js answers /metrics/ with a redirect to /metrics: followed.
    async with edge.client(follow_redirects=True) as http:
        for path in ("/metrics", "/api/../metrics", "/metrics/", "/readyz", "/ws/../metrics"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "# HELP" not in response.text, path


async def test_login_and_register_are_rate_limited_per_address(
    web_app: WebApp, tmp_path: Path
) -> None:
    strict = {**GENEROUS_LIMITS, "NGINX_AUTH_RATE": "1r/m", "NGINX_AUTH_BURST": "2"}
    async with run_nginx(web_app, tmp_path, strict) as strict_edge, strict_edge.client() as http:
        # Invalid bodies (422) never count as failed logins at the gateway:
        # a 429 here can only be nginx's.
        answers = [(await http.post(f"{API}/auth/login", json={})).status_code for _ in range(3)]
        assert answers == [422, 422, 422]
        limited = await http.post(f"{API}/auth/login", json={})
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["status"] == 429
        assert int(limited.headers["retry-after"]) > 0
        assert_security_headers(limited, strict_edge)
        # Registering shares the budget; the rest of the API does not.
        assert (await http.post(f"{API}/auth/register", json={})).status_code == 429
        assert (await http.get(f"{API}/auth/jwks.json")).status_code == 200


async def test_the_browser_scenarios_pass_through_nginx(edge: Edge, web_app: WebApp) -> None:
    """The web app works under nginx's Content-Security-Policy, over HTTPS and wss."""
    if not await asyncio.to_thread(Path(CHROMIUM).exists):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's")
    suite = await asyncio.to_thread(
        web_app.npm,
        "run",
        "test:e2e",
        "--",
        "--project",
        "desktop",
        BASE_URL=edge.url,
        CHROMIUM_PATH=CHROMIUM,
        # Chromium cannot be handed the development CA; only this run skips the check.
        E2E_IGNORE_HTTPS_ERRORS="1",
    )
    log = await asyncio.to_thread(edge.log.read_text)
    assert suite.returncode == 0, suite.stdout[-8000:] + suite.stderr[-4000:] + log[-3000:]
    requests = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    browser_sockets = [
        r
        for r in requests
        if r["path"] == "/ws" and r["status"] == 101 and "Chrome" in r["user_agent"]
    ]
    assert browser_sockets, "the browser's live updates did not go through nginx"
