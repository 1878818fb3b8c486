"""API9:2023 Improper inventory management: what applies.

There is one API version, one public host (the gateway) and one document of
it, generated from the code. Proven here: only ``/api/v1`` answers, the merged
OpenAPI document describes only ``/api/v1`` and marks every operation but the
public ones as needing a token, and every operation it lists is really routed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

PUBLIC = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/password-reset"),
    ("post", "/api/v1/auth/password-reset/confirm"),
    ("get", "/api/v1/auth/jwks.json"),
    ("get", "/api/v1/shared/{token}"),
    ("get", "/api/v1/openapi.json"),
}
SOME_ID = "00000000-0000-4000-8000-000000000000"


async def test_only_the_one_documented_version_answers(platform: Platform) -> None:
    person = await platform.person("Ivy")
    for path in ("/api/v2/wishlists", "/api/v0/wishlists", "/api/wishlists", "/v1/wishlists"):
        response = await platform.http.get(path, headers=person.headers)
        assert response.status_code == 404, (path, response.text)


async def test_the_document_lists_every_route_and_which_need_a_token(platform: Platform) -> None:
    document = (await platform.http.get("/api/v1/openapi.json")).json()
    operations = [
        (method, path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert operations
    for method, path, spec in operations:
        assert path.startswith("/api/v1/"), path
        public = (method, path) in PUBLIC
        assert (spec.get("security") == []) is public, (method, path, spec.get("security"))
        if public:
            continue
        # Every documented protected operation is routed: without a token, 401.
        concrete = path
        for name in ("id", "item_id", "share_id", "token", "notification_id", "reservation_id"):
            concrete = concrete.replace("{" + name + "}", SOME_ID)
        response = await platform.http.request(method.upper(), concrete)
        assert response.status_code == 401, (method, path, response.status_code)
