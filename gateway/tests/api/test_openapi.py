"""The merged OpenAPI document of the public API, and its docs page."""

from __future__ import annotations

import copy
import re
from typing import Any

from gateway_harness import RunningGateway, Services, StartGateway

from gateway.api.openapi import Part, merge


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def returns(name: str) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": ref(name)}}}}


VALIDATION = {
    "HTTPValidationError": {
        "type": "object",
        "properties": {"detail": {"type": "array", "items": ref("ValidationError")}},
    },
    "ValidationError": {"type": "object", "properties": {"msg": {"type": "string"}}},
}
AUTH_USER = {"type": "object", "properties": {"email": {"type": "string"}}}
WISHLISTS_USER = {"type": "object", "properties": {"display_name": {"type": "string"}}}
PAGE_OF_USERS = {"type": "object", "properties": {"items": {"type": "array", "items": ref("User")}}}


def auth_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "wishlist auth", "version": "0.1.0"},
        "paths": {
            "/api/v1/auth/login": {
                "post": {"operationId": "login", "responses": returns("Tokens")}
            },
            "/api/v1/auth/me": {
                "get": {
                    "operationId": "me",
                    "security": [{"HTTPBearer": []}],
                    "responses": returns("User"),
                }
            },
            "/healthz": {"get": {"operationId": "healthz", "responses": {}}},
        },
        "components": {
            "schemas": {
                "Tokens": {"type": "object"},
                "User": AUTH_USER,
                "UserPage": PAGE_OF_USERS,
                **VALIDATION,
            },
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
        "tags": [{"name": "auth"}],
    }


def wishlists_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "wishlist wishlists", "version": "0.1.0"},
        "paths": {
            "/api/v1/wishlists": {
                "get": {"operationId": "lists", "responses": returns("Wishlist")}
            },
            "/api/v1/shared/{token}": {
                "get": {"operationId": "shared", "responses": returns("Wishlist")},
            },
            "/api/v1/shared/{token}/join": {"post": {"operationId": "join", "responses": {}}},
            # Routed to auth by the gateway: not reachable here, so not documented.
            "/api/v1/auth/login": {"post": {"operationId": "impostor", "responses": {}}},
            "/internal/rebuild": {"post": {"operationId": "rebuild", "responses": {}}},
        },
        "components": {
            "schemas": {
                "User": WISHLISTS_USER,
                # Same text as auth's, but its User is a different one.
                "UserPage": PAGE_OF_USERS,
                "Wishlist": {
                    "type": "object",
                    "properties": {"owner": ref("User"), "viewers": ref("UserPage")},
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {"u": "#/components/schemas/User"},
                    },
                },
                **VALIDATION,
            }
        },
        "tags": [{"name": "wishlists"}, {"name": "auth"}],
    }


GATEWAY_OWN = {
    "openapi": "3.1.0",
    "info": {"title": "x", "version": "1"},
    "paths": {"/api/v1/openapi.json": {"get": {"operationId": "openapi", "responses": {}}}},
}


def merged() -> dict[str, Any]:
    return merge(
        [
            Part(None, copy.deepcopy(GATEWAY_OWN)),
            Part("auth", auth_document()),
            Part("wishlists", wishlists_document()),
        ]
    )


def test_only_paths_the_gateway_routes_to_their_service_are_kept() -> None:
    document = merged()

    assert sorted(document["paths"]) == [
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/api/v1/openapi.json",
        "/api/v1/shared/{token}",
        "/api/v1/shared/{token}/join",
        "/api/v1/wishlists",
    ]
    assert document["paths"]["/api/v1/auth/login"]["post"]["operationId"] == "login"


def test_identical_components_are_kept_once() -> None:
    schemas = merged()["components"]["schemas"]

    assert schemas["HTTPValidationError"] == VALIDATION["HTTPValidationError"]
    assert schemas["ValidationError"] == VALIDATION["ValidationError"]
    assert not any(name.startswith("Wishlists") and "Validation" in name for name in schemas)


def test_conflicting_components_are_renamed_with_their_references() -> None:
    document = merged()
    schemas = document["components"]["schemas"]

    assert schemas["User"] == AUTH_USER
    assert schemas["WishlistsUser"] == WISHLISTS_USER
    assert document["paths"]["/api/v1/auth/me"]["get"]["responses"]["200"] == returns("User")["200"]
    wishlist = schemas["Wishlist"]
    assert wishlist["properties"]["owner"] == ref("WishlistsUser")
    assert wishlist["discriminator"]["mapping"] == {"u": "#/components/schemas/WishlistsUser"}


def test_a_component_referring_to_a_renamed_one_is_renamed_too() -> None:
    schemas = merged()["components"]["schemas"]

    assert schemas["UserPage"]["properties"]["items"]["items"] == ref("User")
    assert schemas["WishlistsUserPage"]["properties"]["items"]["items"] == ref("WishlistsUser")
    assert schemas["Wishlist"]["properties"]["viewers"] == ref("WishlistsUserPage")


def test_security_follows_the_gateways_public_routes() -> None:
    document = merged()
    paths = document["paths"]

    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/auth/login"]["post"]["security"] == []
    assert paths["/api/v1/shared/{token}"]["get"]["security"] == []
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    assert paths["/api/v1/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/shared/{token}/join"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/wishlists"]["get"]["security"] == [{"bearerAuth": []}]


def test_errors_are_documented_as_the_problem_details_every_process_sends() -> None:
    auth = auth_document()
    auth["paths"]["/api/v1/auth/login"]["post"]["responses"]["422"] = {
        "description": "Validation Error",
        "content": {"application/json": {"schema": ref("HTTPValidationError")}},
    }
    document = merge([Part("auth", auth)])
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    me = document["paths"]["/api/v1/auth/me"]["get"]["responses"]
    schemas = document["components"]["schemas"]

    # FastAPI's own 422 (HTTPValidationError, application/json) is never sent.
    assert login["422"]["content"] == {
        "application/problem+json": {"schema": ref("ValidationProblem")}
    }
    # Any other error (401, 404, 409, 429, 502 ...) is a problem too.
    for responses in (login, me):
        assert responses["default"]["content"] == {
            "application/problem+json": {"schema": ref("Problem")}
        }
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "errors" in schemas["ValidationProblem"]["required"]


def test_tags_are_merged_without_duplicates() -> None:
    assert merged()["tags"] == [{"name": "auth"}, {"name": "wishlists"}]


def test_the_merge_leaves_its_inputs_alone() -> None:
    auth = auth_document()
    wishlists = wishlists_document()

    merge([Part("auth", auth), Part("wishlists", wishlists)])

    assert auth == auth_document()
    assert wishlists == wishlists_document()


async def test_the_gateway_serves_the_services_documents_merged(
    start_gateway: StartGateway, services: Services, dead_port: int
) -> None:
    services.auth.openapi = auth_document()
    services.wishlists.openapi = wishlists_document()
    # The notifier is down.
    gateway = await start_gateway(notifier_url=f"http://127.0.0.1:{dead_port}")

    response = await gateway.client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Wishlist platform API"
    assert {"/api/v1/auth/login", "/api/v1/wishlists", "/api/v1/openapi.json"} <= set(
        document["paths"]
    )
    assert "WishlistsUser" in document["components"]["schemas"]
    assert not any(path.startswith("/api/v1/notifications") for path in document["paths"])


async def test_a_service_is_added_once_its_document_can_be_fetched(
    start_gateway: StartGateway, services: Services
) -> None:
    services.auth.openapi = auth_document()
    # Until the wishlists service serves a document, its /openapi.json is an echo.
    gateway = await start_gateway(openapi_cache_seconds=0)

    before = (await gateway.client.get("/api/v1/openapi.json")).json()
    services.wishlists.openapi = wishlists_document()
    after = (await gateway.client.get("/api/v1/openapi.json")).json()

    assert "/api/v1/auth/login" in before["paths"]
    assert "/api/v1/wishlists" not in before["paths"]
    assert "/api/v1/wishlists" in after["paths"]


async def test_service_documents_are_cached(gateway: RunningGateway, services: Services) -> None:
    services.auth.openapi = auth_document()
    first = (await gateway.client.get("/api/v1/openapi.json")).json()

    services.auth.openapi = {"openapi": "3.1.0", "paths": {}}
    second = (await gateway.client.get("/api/v1/openapi.json")).json()

    assert "/api/v1/auth/me" in first["paths"]
    assert second == first


async def test_the_document_needs_no_token_and_every_service_down_is_no_error(
    start_gateway: StartGateway, dead_port: int
) -> None:
    dead = f"http://127.0.0.1:{dead_port}"
    gateway = await start_gateway(auth_url=dead, wishlists_url=dead, notifier_url=dead)

    response = await gateway.client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert sorted(paths) == ["/api/v1/me/export", "/api/v1/openapi.json", "/api/v1/realtime/ticket"]
    # The gateway's own routes: the document is public, the ticket and the export are not.
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    assert paths["/api/v1/realtime/ticket"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/me/export"]["get"]["security"] == [{"bearerAuth": []}]


async def test_docs_page_points_at_the_merged_document(gateway: RunningGateway) -> None:
    response = await gateway.client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.text


async def test_docs_page_loads_its_assets_from_the_gateway_only(gateway: RunningGateway) -> None:
    page = (await gateway.client.get("/api/docs")).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    # Script, styles and icon; nothing from another origin (a CDN ran code on ours).
    assert len(assets) == 3
    assert all(asset.startswith("/api/docs/assets/") for asset in assets), assets
    assert "://" not in page.replace("http://www.w3.org", "")
    for asset in assets:
        loaded = await gateway.client.get(asset)
        assert loaded.status_code == 200, asset
        assert loaded.content, asset
    script = await gateway.client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content
    missing = await gateway.client.get("/api/docs/assets/swagger-editor.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_the_gateways_own_fastapi_docs_are_off(gateway: RunningGateway) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        response = await gateway.client.get(path)
        assert response.status_code == 404, path
