"""The FastAPI application every service and the gateway start from.

One place decides what each app has in common: JSON logs, the correlation id,
problem+json errors, ``/healthz`` ``/readyz`` ``/metrics``, and traces when an
OTLP endpoint is configured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Lifespan

from wishlist_shared import health, problems, tracing
from wishlist_shared import logging as json_logging
from wishlist_shared.correlation import CorrelationMiddleware
from wishlist_shared.settings import ProcessSettings
from wishlist_shared.shedding import LoadSheddingMiddleware
from wishlist_shared.shutdown import Drain, DrainMiddleware


def create_service_app(
    *,
    service: str,
    settings: ProcessSettings,
    lifespan: Lifespan[FastAPI],
    readiness: Mapping[str, health.ReadinessCheck],
    domain_errors: Mapping[type[Exception], problems.ProblemType] | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    json_logging.configure(service, settings.log_level, settings.log_json)
    tracing.configure(service, settings)
    # A trailing-slash redirect would name the process's own address, which
    # clients behind the gateway must never see: "/x/" is simply a 404.
    fastapi_kwargs.setdefault("redirect_slashes", False)
    if settings.environment == "production":
        # The interactive pages are for developers; the public API's own are the
        # gateway's /api/docs. /openapi.json stays: the gateway merges it.
        fastapi_kwargs.setdefault("docs_url", None)
        fastapi_kwargs.setdefault("redoc_url", None)
    drain = Drain(settings.shutdown_drain_seconds)

    @asynccontextmanager
    async def draining_lifespan(app: FastAPI) -> AsyncIterator[Any]:
        # Armed once started, so SIGTERM drains the requests, then the
        # lifespan's own shutdown (broker, outbox relay, pools) runs.
        async with lifespan(app) as state:
            with drain.on_sigterm():
                yield state

    app = FastAPI(title=f"wishlist {service}", lifespan=draining_lifespan, **fastapi_kwargs)
    app.state.settings = settings
    app.state.drain = drain
    problems.install(app, domain_errors)
    health.install(app, service, readiness)
    # Outside everything that costs (routing, tokens, metrics per route), so a
    # refusal is cheap; inside the drain and the correlation id, so a refusal
    # closes its connection while draining and carries the request id.
    app.add_middleware(
        LoadSheddingMiddleware, service=service, limit=settings.max_requests_in_flight
    )
    app.add_middleware(DrainMiddleware, drain=drain)
    # Added last so it runs first: every log line of the request carries the id.
    app.add_middleware(CorrelationMiddleware)
    # Wraps the whole stack, so the span covers what every middleware does too.
    tracing.instrument_app(app)
    return app
