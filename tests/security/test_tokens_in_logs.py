"""Bearer parts of URLs never reach the logs.

A WebSocket ticket (``/ws?ticket=``) and a share link's token
(``/api/v1/shared/{token}``, the web app's ``/shared/{token}``) each open
something by themselves, so whoever reads the logs must not be able to use
them. uvicorn writes a request's path and query into its access log and its
WebSocket lines; every process of the platform logs through
``wishlist_shared.logging``, which redacts them. nginx's access log is checked
on the running edge (``tests/e2e/test_nginx.py``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from collections.abc import Iterator
from contextlib import redirect_stdout

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect

from wishlist_shared import logging as service_logging
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    level = logging.getLogger().level
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    logging.getLogger().setLevel(level)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/shared/{token}")
    async def shared(token: str) -> dict[str, str]:
        return {"title": "Birthday"}

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


async def test_tickets_and_share_tokens_are_redacted_from_uvicorns_lines() -> None:
    ticket, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    port = free_port()
    # As a container runs a service: uvicorn's own logging (access log on),
    # then the service's, which takes uvicorn's loggers over.
    config = uvicorn.Config(_app(), host="127.0.0.1", port=port, access_log=True, lifespan="off")
    out = io.StringIO()
    with redirect_stdout(out):
        service_logging.configure("gateway")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout=10, message="uvicorn never started")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get(f"/api/v1/shared/{token}")).status_code == 200
        async with connect(f"ws://127.0.0.1:{port}/ws?ticket={ticket}") as ws:
            await ws.wait_closed()
    finally:
        server.should_exit = True
        await serving
    logged = out.getvalue()
    assert "GET /api/v1/shared/[redacted] HTTP/1.1" in logged
    assert "/ws?ticket=[redacted]" in logged
    assert token not in logged
    assert ticket not in logged


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("GET /ws?ticket=abc.DEF-1_2", "GET /ws?ticket=[redacted]"),
        ("/ws?v=2&ticket=abc&x=1", "/ws?v=2&ticket=[redacted]&x=1"),
        ("POST /api/v1/shared/Zx_9-a/join", "POST /api/v1/shared/[redacted]/join"),
        ("GET /shared/Zx_9-a?from=mail", "GET /shared/[redacted]?from=mail"),
        ("GET /api/v1/wishlists/42/items", "GET /api/v1/wishlists/42/items"),
    ],
)
def test_redaction_keeps_everything_but_the_bearer_part(line: str, logged: str) -> None:
    assert service_logging.redact(line) == logged
