"""The baseline of the service-read scenario: a list read by the least code that does it.

FastAPI and an asyncpg pool, no SQLAlchemy, no middleware, no token check:
``GET /api/v1/wishlists/{id}`` runs what wishlists runs for a list's owner, as
the wishlists role, under the same row-level security: one transaction begun
by the same message as wishlists' (``BEGIN`` and the ``set_config`` of the
same settings), then wishlists' own query (compiled from its query builders,
so the SQL is the same text), then ``COMMIT``, and answers the same JSON.
The caller is the ``sub`` of the bearer token, read unverified: what the
service spends on checking tokens is part of what is compared.

Only what the scenario reads is served: the owner's view of a list without
suggestions (the scenario checks that both answers are equal).

    BENCH_MINIMAL_DATABASE_URL=postgresql://wishlists_svc:…@127.0.0.1/db \\
        uvicorn --factory minimal_read_app:create_app
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from sqlalchemy.dialects import postgresql

from wishlists.db.scope import begin_for_user
from wishlists.db.wishlists import sighting_with_items_query

POOL_SIZE = 10
"""As wishlists' ``db_pool_size`` default; ``BENCH_MINIMAL_POOL_SIZE`` sets the one of a run."""

# The item's columns as wishlists' query selects them, and those the answer shows.
ITEM_KEYS = (
    "id",
    "wishlist_id",
    "title",
    "url",
    "price",
    "currency",
    "image_url",
    "quantity",
    "priority",
    "notes",
    "created_at",
    "updated_at",
    "suggestion",
    "suggested_by",
    "suggester_name",
    "received_at",
    "revealed_at",
)
ANSWERED = ITEM_KEYS[:1] + ITEM_KEYS[2:12]

# Placeholders the queries are compiled with; each request puts its own values
# where these stand.
_LIST = uuid.UUID(int=1)
_CALLER = uuid.UUID(int=2)


def _compiled(query: Any) -> tuple[str, Callable[[uuid.UUID, uuid.UUID], list[Any]]]:
    """The query as asyncpg takes it (``$n`` parameters) and how to fill them in."""
    compiled = query.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    names = list(compiled.positiontup)
    stand_ins = [compiled.params[n] for n in names]

    def arguments(wishlist_id: uuid.UUID, caller: uuid.UUID) -> list[Any]:
        swap = {_LIST: wishlist_id, _CALLER: caller}
        return [swap.get(v, v) if isinstance(v, uuid.UUID) else v for v in stand_ins]

    return str(compiled), arguments


READ, READ_ARGS = _compiled(sighting_with_items_query(_LIST, _CALLER))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # As pydantic writes an aware UTC datetime.
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _caller(request: Request) -> uuid.UUID | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return uuid.UUID(claims["sub"])


def create_app() -> FastAPI:
    url = os.environ["BENCH_MINIMAL_DATABASE_URL"]
    size = int(os.environ.get("BENCH_MINIMAL_POOL_SIZE", POOL_SIZE))
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            url,
            # As many connections as wishlists' pool may hold at once: its size
            # and as many again of overflow (wishlist_shared.db.engine).
            min_size=size,
            max_size=2 * size,
            server_settings={"search_path": "wishlists", "application_name": "bench-minimal"},
        )
        pools.append(pool)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/wishlists/{wishlist_id}")
    async def read_wishlist(wishlist_id: uuid.UUID, request: Request) -> Response:
        caller = _caller(request)
        if caller is None:
            return Response(status_code=401)
        async with pools[0].acquire() as conn:
            await conn.execute(begin_for_user(caller))
            try:
                rows = await conn.fetch(READ, *READ_ARGS(wishlist_id, caller))
            finally:
                # Ends an aborted transaction too.
                await conn.execute("COMMIT")
        if not rows or rows[0][1] != caller:  # the owner_id: the owner's view only
            return Response(status_code=404)
        # The list's 9 columns and the viewer flag, then the item's.
        seen = rows[0]
        items = [dict(zip(ITEM_KEYS, list(row.values())[10:], strict=True)) for row in rows]
        # Positions, not names: the list's and the items' columns share some names.
        body = {
            key: seen[n]
            for n, key in enumerate(
                (
                    "id",
                    "owner_id",
                    "owner_display_name",
                    "title",
                    "description",
                    "occasion_date",
                    "created_at",
                    "updated_at",
                    "revealed_at",
                )
            )
        } | {
            "items": [
                {key: item[key] for key in ANSWERED}
                | {"suggested_by": None, "received_at": item["received_at"]}
                for item in items
                if item["id"] is not None
            ],
        }
        return Response(
            json.dumps(body, default=_json_value, separators=(",", ":")),
            media_type="application/json",
        )

    return app
