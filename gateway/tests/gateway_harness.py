"""What the gateway's tests run against: real HTTP servers on loopback ports.

- :func:`serve` runs any ASGI app (a fake service, the gateway itself) with
  uvicorn inside the test's event loop;
- :class:`FakeService` plays one service: it echoes what reached it, and on
  special paths streams, stalls or breaks, and serves a JWKS or an OpenAPI
  document when given one;
- :class:`SigningKey` is an Ed25519 key that mints access tokens the way auth
  does, so tests can make valid and subtly invalid ones.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.settings import JWKS_PATH, Settings
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace

ISSUER = "wishlist-auth"
AUDIENCE = "wishlist"
CHUNK = 64 * 1024


class _InTaskServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Several servers run inside the pytest process; Ctrl-C stays pytest's.
        yield


class LoopbackServer:
    """Serves an ASGI app (a fake service, the gateway itself) on a free loopback port."""

    def __init__(self, app: ASGIApp, *, lifespan: bool = False, **options: Any) -> None:
        """``options`` go to ``uvicorn.Config`` (``ws_ping_interval=0.2``)."""
        # Bound here and handed to uvicorn: a port picked now and bound later
        # could be taken in between by another test run on the machine.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="on" if lifespan else "off",
            log_config=None,
            access_log=False,
            # The gateway reads X-Forwarded-For itself; uvicorn must not
            # rewrite the peer address first (production runs it with
            # --no-proxy-headers).
            proxy_headers=False,
            timeout_graceful_shutdown=5,
            **options,
        )
        self._server = _InTaskServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        task = self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        await eventually(lambda: self._server.started or task.done(), message="server started")
        if task.done():
            task.result()
            raise RuntimeError("server stopped at start")
        return self.url

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
        self._socket.close()


async def stop_all(servers: list[LoopbackServer]) -> None:
    # uvicorn takes a few 0.1 s ticks to stop: stopping together saves them.
    await asyncio.gather(*(server.stop() for server in servers))


def pattern(size: int) -> bytes:
    """``size`` bytes of deterministic, non-repeating-per-chunk content."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest() * 2048
        counter += 1
    return bytes(out[:size])


@dataclass
class Seen:
    """One request as the service received it."""

    method: str
    path: str
    raw_path: bytes
    query: bytes
    headers: list[tuple[str, str]]
    body_size: int
    body_sha256: str

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


@dataclass
class FakeService:
    """One service behind the gateway, as a raw ASGI app.

    Paths ending in ``/slow`` wait for :attr:`release`; ``/download?size=N``
    streams N bytes of :func:`pattern` (``&gate=1``: the first chunk, then the
    rest once :attr:`gate` is set); ``/broken`` breaks off its body; anything
    else is echoed as JSON (``?status=N`` picks the status, each
    ``?set-cookie=V`` adds a ``Set-Cookie: V`` header).
    """

    name: str
    jwks: dict[str, Any] | None = None
    openapi: dict[str, Any] | None = None
    seen: list[Seen] = field(default_factory=list)
    jwks_fetches: int = 0
    received: int = 0
    """Body bytes received so far by the request being handled."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def unblock(self) -> None:
        self.release.set()
        self.gate.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        path: str = scope["path"]
        query = urllib.parse.parse_qs(scope["query_string"].decode())
        if path == "/openapi.json" and self.openapi is not None:
            await _json(send, 200, self.openapi)
            return
        if path == JWKS_PATH and self.jwks is not None:
            self.jwks_fetches += 1
            await _json(send, 200, self.jwks)
            return
        seen = await self._record(scope, receive)
        if path.endswith("/slow"):
            await self.release.wait()
            await _json(send, 200, {"slow": True})
        elif path.endswith("/download"):
            await self._download(send, int(query["size"][0]), gated="gate" in query)
        elif path.endswith("/broken"):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"x" * CHUNK, "more_body": True})
            raise RuntimeError("the fake service breaks off its response on purpose")
        else:
            status = int(query.get("status", ["200"])[0])
            cookies = [(b"set-cookie", value.encode()) for value in query.get("set-cookie", [])]
            await _json(
                send, status, self._echo(seen), [(b"x-service", self.name.encode()), *cookies]
            )

    async def _record(self, scope: Scope, receive: Receive) -> Seen:
        self.received = 0
        digest = hashlib.sha256()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body = message.get("body", b"")
            digest.update(body)
            self.received += len(body)
            if not message.get("more_body", False):
                break
        seen = Seen(
            method=scope["method"],
            path=scope["path"],
            raw_path=scope["raw_path"],
            query=scope["query_string"],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body_size=self.received,
            body_sha256=digest.hexdigest(),
        )
        self.seen.append(seen)
        return seen

    def _echo(self, seen: Seen) -> dict[str, Any]:
        return {
            "service": self.name,
            "method": seen.method,
            "path": seen.path,
            "raw_path": seen.raw_path.decode("latin-1"),
            "query": seen.query.decode("latin-1"),
            "body_size": seen.body_size,
            "body_sha256": seen.body_sha256,
        }

    async def _download(self, send: Send, size: int, *, gated: bool) -> None:
        body = pattern(size)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        for offset in range(0, size, CHUNK):
            if gated and offset > 0:
                await self.gate.wait()
            chunk = body[offset : offset + CHUNK]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _json(
    send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handler: StreamHandler) -> AsyncIterator[str]:
    """A loopback TCP server that hands each connection to ``handler``; its URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def hang_up_server() -> AsyncIterator[str]:
    """A server that reads a request and closes the connection without answering."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
        await writer.wait_closed()

    async with raw_server(hang_up) as url:
        yield url


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    """The claims auth puts in an access token; an override of None drops a claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sid": str(uuid.uuid4()),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwk(self) -> dict[str, Any]:
        public = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        assert isinstance(public, dict)
        return {**public, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, **overrides: Any) -> str:
        return jwt.encode(
            claims(**overrides), self.private, algorithm="EdDSA", headers={"kid": self.kid}
        )

    def _signing_input(self, alg: str, overrides: dict[str, Any]) -> str:
        header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": self.kid}).encode())
        return f"{header}.{_b64(json.dumps(claims(**overrides)).encode())}"

    def unsigned_token(self, **overrides: Any) -> str:
        """``alg: none``: no signature at all."""
        return self._signing_input("none", overrides) + "."

    def hs256_with_public_key(self, **overrides: Any) -> str:
        """The algorithm-confusion attack: HMAC keyed with the (public) verification key."""
        signing_input = self._signing_input("HS256", overrides)
        signature = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def tampered_token(self) -> str:
        """A valid token whose payload was changed after signing."""
        header, payload, signature = self.token().split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["sub"] = str(uuid.uuid4())
        return f"{header}.{_b64(json.dumps(data).encode())}.{signature}"


@dataclass
class Services:
    auth: FakeService
    wishlists: FakeService
    notifier: FakeService
    urls: dict[str, str]

    def __getitem__(self, name: str) -> FakeService:
        service = getattr(self, name)
        assert isinstance(service, FakeService)
        return service


@dataclass
class RunningGateway:
    url: str
    client: httpx.AsyncClient
    settings: Settings


StartGateway = Callable[..., Awaitable[RunningGateway]]


def gateway_settings(
    services: Services, servers: Servers, namespace: Namespace, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "auth_url": services.urls["auth"],
        "wishlists_url": services.urls["wishlists"],
        "notifier_url": services.urls["notifier"],
        "redis_url": servers.redis_url,
        "redis_prefix": namespace.redis_prefix,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
