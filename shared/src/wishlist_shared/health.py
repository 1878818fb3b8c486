"""``/healthz``, ``/readyz`` and ``/metrics``, the same on every service and the gateway."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wishlist_shared.db.engine import ping
from wishlist_shared.dependency_gate import gate_of
from wishlist_shared.metrics import READINESS

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[object]]

REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
# The status class, not the code, on the histogram: errors are often much
# faster (or slower) than successes, and a class keeps the series few.
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to the first byte of the response, by status class (2xx, 4xx, 5xx)",
    ["service", "method", "route", "status_class"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# What a crash right now would cut off (the fault suite kills a process while
# it holds some). ``/metrics`` itself is left out: reading the gauge must not
# count as a request in flight.
IN_PROGRESS = Gauge("http_requests_in_progress", "HTTP requests being handled now", ["service"])


def router(checks: Mapping[str, ReadinessCheck], timeout: float = 2.0) -> APIRouter:
    """Routes for liveness, readiness (each named check must pass) and metrics."""
    r = APIRouter(include_in_schema=False)

    @r.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @r.get("/readyz")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                log.warning("readiness check %s failed: %r", name, exc)
                results[name] = "unavailable"
            # Kept fresh by the orchestrator's probes, so alerts can see readiness.
            READINESS.labels(name).set(1 if results[name] == "ok" else 0)
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    @r.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r


class MetricsMiddleware:
    """Counts requests and times them, labelled by route template (not raw path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._in_progress = IN_PROGRESS.labels(service)
        # The labelled series of each (method, route, status) met so far: looked
        # up once, not on every request (the routes are few, and so the keys).
        self._series: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    def _of(self, method: str, route: str, status: int) -> tuple[Histogram, Counter]:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                LATENCY.labels(self.service, method, route, f"{status // 100}xx"),
                REQUESTS.labels(self.service, method, route, str(status)),
            )
            self._series[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        counted = scope["path"] != "/metrics"
        if counted:
            self._in_progress.inc()

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                latency, _ = self._of(scope["method"], _route(scope), status)
                latency.observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _, requests = self._of(scope["method"], _route(scope), status)
            requests.inc()
            if counted:
                self._in_progress.dec()


ROUTE_TEMPLATE = "wishlist.route_template"
"""Scope key by which an endpoint that is not a FastAPI route names its route's
template for the metrics (Starlette's plain routes leave no "route" in the scope)."""


def _route(scope: Scope) -> str:
    """The matched route's template with the prefix it was included under.

    FastAPI keeps an included router nested: its routes know only their own
    path ("/me/{id}"), not the prefix ("/api/v1/auth"). The prefix is the
    literal part of the request path before the route's pattern matches.
    """
    named = scope.get(ROUTE_TEMPLATE)
    if isinstance(named, str):
        return named
    route = scope.get("route")
    template = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if not isinstance(template, str) or pattern is None:
        return "unmatched"
    path: str = scope.get("path", "")
    for i, char in enumerate(path):
        if char == "/" and pattern.match(path[i:]):
            return path[:i] + template
    return template


def service_readiness(
    engine: AsyncEngine, redis: Redis, broker: RabbitBroker
) -> dict[str, ReadinessCheck]:
    """The checks of a service: its database, Redis and RabbitMQ all answer, its consumers run."""

    async def redis_answers() -> None:
        await redis.ping()

    async def broker_connected() -> None:
        # `running` turns true once every subscriber's queue is declared and
        # consumed: before that, events published for this service would be
        # parked as unrouted, so the service is not ready.
        if not broker.running:
            raise ConnectionError("consumers not started yet")
        if not await broker.ping(timeout=1.0):
            raise ConnectionError("not connected to RabbitMQ")

    gate = gate_of(broker)

    async def consumers_running() -> None:
        # A handler found a dependency down (perhaps one the checks above do
        # not see, such as its role locked out while pooled sessions live on):
        # its consumers are paused, so the service is not ready.
        if gate.closed:
            raise ConnectionError("consumers paused: waiting for a dependency")

    return {
        "database": lambda: ping(engine),
        "redis": redis_answers,
        "rabbitmq": broker_connected,
        "consumers": consumers_running,
    }


def install(app: FastAPI, service: str, checks: Mapping[str, ReadinessCheck]) -> None:
    app.include_router(router(checks))
    app.add_middleware(MetricsMiddleware, service=service)
