"""The one place that mounts the gateway's public routes.

Every prefix of the routing table gets one route (any method) that checks the
caller and forwards; the gateway's own routes are the merged OpenAPI
document and its docs page with the page's assets (public,
:mod:`gateway.api.docs`), the data export gathered from every service
(:mod:`gateway.api.export`), and the real-time relay's ticket and WebSocket
(:mod:`gateway.realtime.sockets`). Paths nothing matches get Starlette's 404,
which the shared error handler turns into problem+json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gateway.api import access, docs, export, forwarded, proxy, routing
from gateway.api.deps import Gateway, GatewayDep
from gateway.realtime import sockets
from wishlist_shared.health import ROUTE_TEMPLATE
from wishlist_shared.problems import Problem, ProblemType

OPENAPI_PATH = "/api/v1/openapi.json"
NOT_FOUND = ProblemType(404, "not-found", "Not Found")


def _proxy_endpoint(service: str, template: str) -> Callable[[Request], Awaitable[Response]]:
    # A plain Starlette endpoint: FastAPI's dependency solving and response
    # handling cost tens of microseconds a request, and a forwarded request
    # needs neither.
    async def forward_to_service(request: Request) -> Response:
        # Starlette's plain routes leave no "route" in the scope for the metrics.
        request.scope[ROUTE_TEMPLATE] = template
        gateway: Gateway = request.app.state.gateway
        path: str = request.scope["path"]
        if routing.has_dot_segment(path):
            raise Problem(NOT_FOUND, "No such resource.")
        trusted = gateway.trusted_proxies
        peer = request.client.host if request.client is not None else None
        address = forwarded.client_address(
            peer, request.headers.getlist("x-forwarded-for"), trusted
        )
        caller = await access.admit(
            request,
            routing.public_route(request.method, path),
            address=address,
            verifier=gateway.tokens.verifier,
            checkpoint=gateway.checkpoint,
            limits=gateway.limits,
        )
        origin = proxy.Origin(
            client_address=address,
            scheme=forwarded.forwarded_proto(
                peer, request.headers.get("x-forwarded-proto"), request.url.scheme, trusted
            ),
        )
        response = await proxy.forward(
            request,
            gateway.upstreams[service],
            origin,
            max_body_bytes=gateway.settings.max_body_bytes,
        )
        if caller.credentials and response.status_code in access.REJECTED_ATTEMPT_STATUSES:
            await gateway.limits.record_rejected_attempt(address)
        return response

    forward_to_service.__name__ = f"forward_to_{service}"
    return forward_to_service


def router() -> APIRouter:
    r = APIRouter()
    # Before the proxy's routes: the gateway answers the gathered paths itself.
    r.include_router(export.router())
    for prefix, service in routing.PREFIXES:
        for path in (prefix, prefix + "/{rest:path}"):
            r.add_route(
                path,
                _proxy_endpoint(service, path),
                methods=list(routing.PROXIED_METHODS),
                include_in_schema=False,
            )

    @r.get(
        OPENAPI_PATH,
        summary="The public API's OpenAPI document",
        description="Merged from the services' documents; a service that is down is left out.",
        tags=["meta"],
    )
    async def openapi_document(gateway: GatewayDep) -> JSONResponse:
        return JSONResponse(await gateway.openapi.document())

    r.include_router(sockets.router())
    r.include_router(docs.router(OPENAPI_PATH))
    return r
