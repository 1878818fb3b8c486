"""API8:2023 Security misconfiguration.

CORS answers only the configured origins; every error, from the gateway and
from each service, is a problem document with no stack trace or internals;
an unexpected exception is a bare 500; in production mode the services serve
no interactive docs pages (the gateway's own FastAPI docs are always off; its
``/api/docs`` is the public API's documentation, on purpose); production mode
refuses RabbitMQ's guest account and the link-preview test allowlist, as it
refuses development secrets.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from auth.settings import Settings as AuthSettings
from notifier.settings import Settings as NotifierSettings
from wishlist_shared.service import create_service_app
from wishlist_shared.settings import (
    ProcessSettings,
    ServiceSettings,
)
from wishlists.settings import Settings as WishlistsSettings

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
ALLOWED_ORIGIN = "https://app.example.test"
# What must never reach a client: traces, file paths, driver and ORM names.
JSON_TYPE = {"Content-Type": "application/json"}
INTERNALS = ("Traceback", 'File "', ".py", "sqlalchemy", "asyncpg", "site-packages", "/work/")


async def test_cors_answers_only_the_configured_origins(platform: Platform) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    allowed = await platform.http.options(
        f"{API}/wishlists", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    for origin in ("https://evil.example", "null", "https://app.example.test.evil.example"):
        refused = await platform.http.options(
            f"{API}/wishlists", headers={"Origin": origin, **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers, origin
        simple = await platform.http.get(f"{API}/auth/jwks.json", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers, origin


async def test_errors_are_problem_documents_without_internals(platform: Platform) -> None:
    person = await platform.person("Eve")
    auth = dict(person.headers)
    probes: list[tuple[str, str, dict[str, object]]] = [
        ("POST", "/wishlists", {"content": b"{not json", "headers": JSON_TYPE}),
        ("POST", "/wishlists", {"content": b"\xff\xfe\x00", "headers": JSON_TYPE}),
        ("POST", "/wishlists", {"json": ["a", "list"]}),
        ("POST", "/wishlists", {"json": {"title": {"$gt": ""}}}),
        ("GET", "/wishlists/not-a-uuid", {}),
        ("GET", "/wishlists?cursor=%00%ff", {}),
        ("GET", "/wishlists?limit=1e309", {}),
        ("PUT", "/wishlists", {}),
        ("GET", "/nothing-here", {}),
        ("POST", "/auth/login", {"content": b"[]", "headers": JSON_TYPE}),
        ("GET", "/notifications?after=x", {}),
        ("POST", "/notifications/%2e%2e/read", {}),
    ]
    for target in ("gateway", "auth", "wishlists", "notifier"):
        for method, path, options in probes:
            headers = {**auth, **options.get("headers", {})}  # type: ignore[dict-item]
            extra = {k: v for k, v in options.items() if k != "headers"}
            response = await platform.http.request(
                method, f"{platform.stack.url(target)}{API}{path}", headers=headers, **extra
            )
            where = (target, method, path, response.status_code, response.text)
            assert 400 <= response.status_code < 500, where
            assert response.headers["content-type"].startswith("application/problem+json"), where
            problem = response.json()
            assert {"type", "title", "status", "detail"} <= set(problem), where
            assert not any(marker in response.text for marker in INTERNALS), where


@contextlib.asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app(environment: str) -> FastAPI:
    settings = ProcessSettings(environment=environment)  # type: ignore[arg-type]
    app = create_service_app(service="probe", settings=settings, lifespan=_nothing, readiness={})

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/app/db.py line 12")

    return app


async def test_an_unexpected_error_is_a_bare_500_problem() -> None:
    transport = httpx.ASGITransport(app=_app("production"), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "hunter2" not in response.text
    assert not any(marker in response.text for marker in INTERNALS)


@pytest.mark.parametrize(("environment", "pages"), [("development", 200), ("production", 404)])
async def test_production_serves_no_interactive_docs_pages(environment: str, pages: int) -> None:
    transport = httpx.ASGITransport(app=_app(environment))
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        assert (await client.get("/docs")).status_code == pages
        assert (await client.get("/redoc")).status_code == pages
        # The machine-readable document stays: the gateway merges it.
        assert (await client.get("/openapi.json")).status_code == 200


async def test_the_gateway_exposes_no_docs_of_its_own_framework(platform: Platform) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        response = await platform.http.get(path)
        assert response.status_code == 404, path


# Production values for every secret a service has, so only the setting under test is refused.
PRODUCTION_SECRETS: dict[str, str] = {
    "database_url": "postgresql+asyncpg://svc:a-real-password@db.internal/app",
    "secret_key": "k" * 48,
}
SERVICES: list[type[ServiceSettings]] = [AuthSettings, WishlistsSettings, NotifierSettings]


def _production(settings: type[ServiceSettings], **values: object) -> ServiceSettings:
    secrets = {k: v for k, v in PRODUCTION_SECRETS.items() if k in settings.model_fields}
    return settings(environment="production", **secrets, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("settings", SERVICES, ids=lambda s: s.__module__.split(".")[0])
@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@rabbitmq.internal:5672/",
        "amqp://guest:another-password@rabbitmq.internal:5672/",
        "amqps://gu%65st:guest@rabbitmq.internal/",
    ],
)
def test_production_refuses_rabbitmqs_guest_account(
    settings: type[ServiceSettings], url: str
) -> None:
    with pytest.raises(ValidationError, match="guest account"):
        _production(settings, rabbitmq_url=url)
    # Development keeps working on the local broker's guest.
    assert settings(rabbitmq_url=url).rabbitmq_url == url


@pytest.mark.parametrize("settings", SERVICES, ids=lambda s: s.__module__.split(".")[0])
def test_production_starts_with_a_broker_user_of_its_own(settings: type[ServiceSettings]) -> None:
    url = "amqp://wishlist:a-real-password@rabbitmq.internal:5672/"
    assert _production(settings, rabbitmq_url=url).rabbitmq_url == url


def test_production_refuses_the_link_preview_test_allowlist() -> None:
    broker = "amqp://wishlist:a-real-password@rabbitmq.internal:5672/"
    with pytest.raises(ValidationError, match="link_preview_test_allowed"):
        _production(
            WishlistsSettings,
            rabbitmq_url=broker,
            link_preview_test_allowed_addresses=["127.0.0.1:8080"],
        )
    assert (
        _production(WishlistsSettings, rabbitmq_url=broker).link_preview_exceptions() == frozenset()
    )
