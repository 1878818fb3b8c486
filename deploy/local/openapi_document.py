"""Writes the public API's OpenAPI document, as the gateway serves it, without servers.

The web app's TypeScript types are generated from this file
(``frontend/src/lib/api/openapi.json``), so a change to any service's API
shows up as a change to the app's types, and the type check of the app
fails where the app no longer matches. The document is built the way the
gateway builds ``/api/v1/openapi.json``: each app's own document, merged
by the gateway's own ``merge``. Building an app opens no connection.

    python deploy/local/openapi_document.py          # rewrite
    python deploy/local/openapi_document.py --check  # CI: exit 1 when stale
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.api import openapi

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "frontend" / "src" / "lib" / "api" / "openapi.json"
SERVICES = ("auth", "wishlists", "notifier")


def _app(process: str) -> FastAPI:
    app: object = importlib.import_module(f"{process}.main").create_app()
    if not isinstance(app, FastAPI):
        raise TypeError(f"{process}.main.create_app() did not return a FastAPI app")
    return app


def document() -> dict[str, Any]:
    gateway = _app("gateway")
    own = get_openapi(title=openapi.TITLE, version=openapi.VERSION, routes=gateway.routes)
    parts = [openapi.Part(None, own)]
    parts += [openapi.Part(service, _app(service).openapi()) for service in SERVICES]
    return openapi.merge(parts)


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `make api-types`", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
