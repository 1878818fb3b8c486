"""The FastAPI application every service and the gateway start from.

One place decides what each app has in common: JSON logs, the correlation id,
problem+json errors, ``/healthz`` ``/readyz`` ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.types import Lifespan

from wishlist_shared import health, problems
from wishlist_shared import logging as json_logging
from wishlist_shared.correlation import CorrelationMiddleware
from wishlist_shared.settings import ProcessSettings


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
    # A trailing-slash redirect would name the process's own address, which
    # clients behind the gateway must never see: "/x/" is simply a 404.
    fastapi_kwargs.setdefault("redirect_slashes", False)
    app = FastAPI(title=f"wishlist {service}", lifespan=lifespan, **fastapi_kwargs)
    app.state.settings = settings
    problems.install(app, domain_errors)
    health.install(app, service, readiness)
    # Added last so it runs first: every log line of the request carries the id.
    app.add_middleware(CorrelationMiddleware)
    return app
