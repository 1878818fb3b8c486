"""The caller's data export, ``GET /api/v1/me/export``, gathered from every service.

No service may read another's database, so no service can export a user's
data alone: each serves its own part under the same path (auth the account,
wishlists the lists and reservations, the notifier the notifications), and
the gateway, the one place that already talks to all of them, asks them
concurrently with the caller's own token and puts the parts side by side in
one document. Which services take part is :data:`gateway.api.routing.GATHERED`.

All or nothing: a service that is down, slow, or answers anything but 200
makes the whole export a 503 with ``Retry-After`` (nothing of the others
is sent); a 401 from any of them (a token revoked meanwhile, an account
deleted) is the caller's 401.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gateway.api import access, forwarded, routing, uncancelled
from gateway.api.deps import Gateway, GatewayDep
from gateway.api.metrics import UPSTREAM_FAILURES, UPSTREAM_RESPONSES
from gateway.api.proxy import UPSTREAM_UNAVAILABLE, Upstream
from wishlist_shared import correlation
from wishlist_shared.outages import RETRY_AFTER_SECONDS
from wishlist_shared.problems import Problem
from wishlist_shared.security import unauthorized

log = logging.getLogger(__name__)

EXPORT_PATH = "/api/v1/me/export"
EXPORT_FORMAT = "wishlist-platform-export"
EXPORT_VERSION = 1
SERVICES = routing.gathered_from(EXPORT_PATH)

_bearer = HTTPBearer(auto_error=False)


class ExportEnvelope(BaseModel):
    """What every export starts with; the services' parts follow as further keys."""

    format: Literal["wishlist-platform-export"]
    version: Literal[1]
    exported_at: datetime


class _Unauthorized(Exception):  # noqa: N818 - reads as the answer it stands for
    pass


class _Failed(Exception):  # noqa: N818 - reads as the condition it reports
    def __init__(self, service: str, kind: str) -> None:
        super().__init__(f"{service}: {kind}")
        self.service = service
        self.kind = kind


async def _part(upstream: Upstream, headers: dict[str, str]) -> dict[str, Any]:
    """One service's part of the export; :class:`_Failed` or :class:`_Unauthorized` if none."""
    try:
        # Never cancelled mid-wait for a pooled connection: see gateway.api.uncancelled.
        response = await uncancelled.send(
            upstream.client,
            upstream.client.build_request(
                "GET", upstream.base_url.copy_with(path=EXPORT_PATH), headers=headers
            ),
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise _Failed(upstream.name, "unavailable") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        raise _Failed(upstream.name, "timeout") from exc
    except httpx.TransportError as exc:
        raise _Failed(upstream.name, "broken") from exc
    UPSTREAM_RESPONSES.labels(upstream.name, str(response.status_code)).inc()
    if response.status_code == 401:
        raise _Unauthorized
    if response.status_code != 200:
        raise _Failed(upstream.name, f"status {response.status_code}")
    try:
        part = response.json()
    except ValueError as exc:
        raise _Failed(upstream.name, "not JSON") from exc
    if not isinstance(part, dict):
        raise _Failed(upstream.name, "not a JSON object")
    return part


def _document(parts: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    envelope = ExportEnvelope(format=EXPORT_FORMAT, version=EXPORT_VERSION, exported_at=at)
    document: dict[str, Any] = envelope.model_dump(mode="json")
    for service, part in zip(SERVICES, parts, strict=True):
        # Each key has one owner: a service answering another's key is a
        # bug that must not silently replace that other's data.
        if clash := document.keys() & part.keys():
            raise _Failed(service, f"keys already taken: {sorted(clash)}")
        document.update(part)
    return document


async def gather(gateway: Gateway, request: Request, address: str, token: str) -> dict[str, Any]:
    """The whole export document for the holder of ``token``; a problem when it cannot be had."""
    headers = {
        "authorization": f"Bearer {token}",
        "accept": "application/json",
        "x-forwarded-for": address,
        "x-forwarded-proto": forwarded.forwarded_proto(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-proto"),
            request.url.scheme,
            gateway.trusted_proxies,
        ),
        correlation.HEADER: correlation.current(),
    }
    at = datetime.now(UTC)
    # Every part is awaited, failed or not: the answer must not depend on
    # which failure happened to come first.
    results = await asyncio.gather(
        *(_part(gateway.upstreams[s], headers) for s in SERVICES), return_exceptions=True
    )
    if any(isinstance(r, _Unauthorized) for r in results):
        raise unauthorized("The access token is invalid, expired or revoked.")
    parts: list[dict[str, Any]] = []
    try:
        for result in results:
            if isinstance(result, BaseException):
                raise result
            parts.append(result)
        return _document(parts, at)
    except _Failed as exc:
        UPSTREAM_FAILURES.labels(exc.service, "export").inc()
        log.warning("export failed: %s", exc)
        raise Problem(
            UPSTREAM_UNAVAILABLE,
            f"The {exc.service} service could not give its part of the export; "
            "nothing was exported. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc


def router() -> APIRouter:
    r = APIRouter()

    @r.get(
        EXPORT_PATH,
        response_model=ExportEnvelope,
        summary="Everything of the caller's, as one JSON document to download",
        description=(
            "The account, the caller's own lists with their items and shares (never a word "
            "about reservations on them), the caller's reservations on others' lists, the "
            "lists shared with them, their notifications (oldest first) and their email "
            "preferences. Served as an "
            "attachment (`wishlists-export-YYYY-MM-DD.json`). `POST /api/v1/wishlists/import` "
            "takes the document back. 503 with `Retry-After` when any service cannot give "
            "its part: never a partial export."
        ),
        tags=["export"],
    )
    async def export(
        request: Request,
        gateway: GatewayDep,
        # Declared so the OpenAPI document shows the route as authenticated;
        # access.admit does the checking.
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> JSONResponse:
        peer = request.client.host if request.client is not None else None
        address = forwarded.client_address(
            peer, request.headers.getlist("x-forwarded-for"), gateway.trusted_proxies
        )
        await access.admit(
            request,
            None,
            address=address,
            verifier=gateway.tokens.verifier,
            checkpoint=gateway.checkpoint,
            limits=gateway.limits,
        )
        token = access.bearer_token(request)
        assert token is not None  # admitted
        document = await gather(gateway, request, address, token)
        day = document["exported_at"][:10]
        return JSONResponse(
            document,
            headers={
                "Content-Disposition": f'attachment; filename="wishlists-export-{day}.json"',
                # Personal data: no shared cache keeps a copy.
                "Cache-Control": "no-store",
            },
        )

    return r
