"""The data export the gateway gathers from every service, against fake services.

Each fake answers ``/api/v1/me/export`` with a part of its own (or fails as
told) and hands everything else to the harness's :class:`FakeService`, which
also serves auth's JWKS.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from gateway_harness import (
    LoopbackServer,
    RunningGateway,
    Services,
    SigningKey,
    StartGateway,
    bearer,
    stop_all,
)
from starlette.types import Receive, Scope, Send

from gateway.api.openapi import Part, merge

EXPORT = "/api/v1/me/export"
PROBLEM = "application/problem+json"
PARTS: dict[str, dict[str, Any]] = {
    "auth": {"account": {"id": "u1", "email": "ann@example.com"}},
    "wishlists": {"wishlists": [{"title": "Birthday"}], "reservations": [], "shared_with_me": []},
    "notifier": {"notifications": [{"kind": "item_added"}]},
}


@dataclass
class ExportPart:
    """A service's export route in front of a fake service."""

    name: str
    inner: Any
    status: int = 200
    body: Any = None
    asked: list[dict[str, str]] = field(default_factory=list)
    barrier: asyncio.Barrier | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != EXPORT:
            await self.inner(scope, receive, send)
            return
        self.asked.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status, body = self.status, self.body if self.body is not None else PARTS[self.name]
        if self.barrier is not None:
            try:
                # Every part is held until all three were asked: only asking
                # them at the same time gets an answer.
                await asyncio.wait_for(self.barrier.wait(), timeout=5)
            except TimeoutError:
                status, body = 500, {"detail": "asked one after the other"}
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@dataclass
class Exporters:
    parts: dict[str, ExportPart]
    start: StartGateway
    urls: dict[str, str]
    """Where the gateway finds each service (a test may point one elsewhere)."""

    async def gateway(self) -> RunningGateway:
        # The JWKS comes from auth's URL, which the fake auth behind its part serves.
        return await self.start(**{f"{name}_url": url for name, url in self.urls.items()})


@pytest.fixture
async def exporters(services: Services, start_gateway: StartGateway) -> AsyncIterator[Exporters]:
    parts = {name: ExportPart(name, services[name]) for name in ("auth", "wishlists", "notifier")}
    loopbacks = {name: LoopbackServer(part) for name, part in parts.items()}
    try:
        urls = {name: await lb.start() for name, lb in loopbacks.items()}
        yield Exporters(parts, start_gateway, urls)
    finally:
        await stop_all(list(loopbacks.values()))


async def test_the_parts_are_asked_for_at_once_and_served_as_one_download(
    exporters: Exporters, signing_key: SigningKey
) -> None:
    barrier = asyncio.Barrier(3)
    for part in exporters.parts.values():
        part.barrier = barrier
    gateway = await exporters.gateway()
    token = signing_key.token()

    response = await gateway.client.get(
        EXPORT, headers={**bearer(token), "X-Request-ID": "export-1"}
    )

    assert response.status_code == 200, response.text
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="wishlists-export-{today}.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert list(document) == [
        "format",
        "version",
        "exported_at",
        "account",
        "wishlists",
        "reservations",
        "shared_with_me",
        "notifications",
    ]
    assert (document["format"], document["version"]) == ("wishlist-platform-export", 1)
    assert document["exported_at"].startswith(today)
    for name, part in PARTS.items():
        assert {k: document[k] for k in part} == part, name
        (asked,) = exporters.parts[name].asked
        assert asked["authorization"] == f"Bearer {token}"
        assert asked["x-request-id"] == "export-1"


@pytest.mark.parametrize("failing", ["auth", "wishlists", "notifier"])
async def test_a_part_that_fails_is_a_503_to_retry_and_nothing_else(
    exporters: Exporters, signing_key: SigningKey, failing: str
) -> None:
    exporters.parts[failing].status = 500
    gateway = await exporters.gateway()

    response = await gateway.client.get(EXPORT, headers=bearer(signing_key.token()))

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert failing in response.json()["detail"]
    assert "ann@example.com" not in response.text
    assert "Birthday" not in response.text


async def test_a_service_that_cannot_be_reached_is_a_503(
    exporters: Exporters, signing_key: SigningKey, dead_port: int
) -> None:
    exporters.urls["notifier"] = f"http://127.0.0.1:{dead_port}"
    gateway = await exporters.gateway()

    response = await gateway.client.get(EXPORT, headers=bearer(signing_key.token()))

    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert "notifier" in response.json()["detail"]
    assert "ann@example.com" not in response.text


async def test_a_401_from_any_service_is_the_callers_401(
    exporters: Exporters, signing_key: SigningKey
) -> None:
    exporters.parts["wishlists"].status = 401
    exporters.parts["wishlists"].body = {"detail": "revoked"}
    exporters.parts["notifier"].status = 500
    gateway = await exporters.gateway()

    response = await gateway.client.get(EXPORT, headers=bearer(signing_key.token()))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_part_that_is_not_an_object_or_takes_anothers_key_is_a_503(
    exporters: Exporters, signing_key: SigningKey
) -> None:
    exporters.parts["notifier"].body = {"notifications": [], "account": {"id": "someone"}}
    gateway = await exporters.gateway()
    clash = await gateway.client.get(EXPORT, headers=bearer(signing_key.token()))
    assert clash.status_code == 503
    assert "someone" not in clash.text

    exporters.parts["notifier"].body = ["not", "an", "object"]
    listed = await gateway.client.get(EXPORT, headers=bearer(signing_key.token()))
    assert listed.status_code == 503


async def test_without_a_valid_token_no_service_is_asked(
    exporters: Exporters, signing_key: SigningKey
) -> None:
    gateway = await exporters.gateway()

    for headers in ({}, bearer(signing_key.tampered_token())):
        response = await gateway.client.get(EXPORT, headers=headers)
        assert response.status_code == 401

    assert all(not part.asked for part in exporters.parts.values())


def _export_document(service: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": service, "version": "0"},
        "paths": {
            EXPORT: {
                "get": {
                    "security": [{"HTTPBearer": []}],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": schema}},
                        }
                    },
                }
            }
        },
        "components": {"schemas": {f"{service.title()}Part": {"type": "object"}}},
    }


def test_the_merged_document_shows_one_export_with_every_part() -> None:
    own = _export_document("gateway", {"$ref": "#/components/schemas/GatewayPart"})
    parts = [Part(None, own)] + [
        Part(s, _export_document(s, {"$ref": f"#/components/schemas/{s.title()}Part"}))
        for s in ("auth", "wishlists", "notifier")
    ]

    document = merge(parts)

    operation = document["paths"][EXPORT]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {
        "allOf": [
            {"$ref": "#/components/schemas/GatewayPart"},
            {"$ref": "#/components/schemas/AuthPart"},
            {"$ref": "#/components/schemas/WishlistsPart"},
            {"$ref": "#/components/schemas/NotifierPart"},
        ]
    }
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"AuthPart", "WishlistsPart", "NotifierPart"} <= set(document["components"]["schemas"])


def test_without_the_gateways_own_route_the_services_exports_stay_undocumented() -> None:
    parts = [
        Part(s, _export_document(s, {"type": "object"})) for s in ("auth", "wishlists", "notifier")
    ]
    assert EXPORT not in merge(parts)["paths"]


async def test_the_export_is_documented_on_the_running_gateway(exporters: Exporters) -> None:
    gateway = await exporters.gateway()
    document = (await gateway.client.get("/api/v1/openapi.json")).json()
    operation = document["paths"][EXPORT]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ExportEnvelope"}
