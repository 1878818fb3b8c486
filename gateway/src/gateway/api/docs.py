"""``/api/docs``: Swagger UI for the merged OpenAPI document, served from the gateway itself.

Its script, styles and icon come from the pinned ``swagger-ui-py`` distribution,
not a CDN: code that runs on the API's own origin is code this repository chose,
at a version its lock file pins, and nginx's policy for the page can say
``'self'`` instead of trusting a third-party host.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from wishlist_shared.problems import Problem, ProblemType

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
NOT_FOUND = ProblemType(404, "not-found", "Not Found")
# Only what the page loads; the distribution holds an editor and more besides.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# The files change only with the pinned version, which changes the image.
CACHE = "public, max-age=86400"


def router(openapi_path: str) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    static = files("swagger_ui") / "static"
    assets = {name: (static / name).read_bytes() for name in ASSET_TYPES}

    @r.get(DOCS_PATH)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_path,
            title="Wishlist platform API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @r.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> Response:
        if name not in assets:
            raise Problem(NOT_FOUND, "No such resource.")
        return Response(
            assets[name], media_type=ASSET_TYPES[name], headers={"Cache-Control": CACHE}
        )

    return r
