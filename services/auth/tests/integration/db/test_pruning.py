"""Expired sessions are deleted in the background, off the login path."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from sqlalchemy.engine import make_url

from auth.pruning import SessionPruner
from wishlist_shared.db import engine as db
from wishlist_shared.testing.plugin import MakeDatabase


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _user_with_sessions(conn: asyncpg.Connection, expired: int, live: int) -> uuid.UUID:
    user_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, 'x', 'h')",
        user_id,
        f"{user_id.hex}@example.com",
    )
    for n, lifetime in enumerate([timedelta(days=-1)] * expired + [timedelta(days=30)] * live):
        session_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + $3)",
            session_id,
            user_id,
            lifetime,
        )
        await conn.execute(
            "INSERT INTO refresh_tokens (session_id, token_hash, expires_at) "
            "VALUES ($1, $2, now() + $3)",
            session_id,
            uuid.uuid4().bytes + n.to_bytes(4, "big"),
            lifetime,
        )
    return user_id


async def test_the_pruner_deletes_expired_sessions_in_batches_and_keeps_live_ones(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["auth"])
    conn = await asyncpg.connect(libpq(database.urls["auth"]))
    engine = db.create_engine(database.urls["auth"], "auth", pool_size=1)
    try:
        first = await _user_with_sessions(conn, expired=7, live=2)
        second = await _user_with_sessions(conn, expired=0, live=1)
        # Batches smaller than the backlog: the pruner goes on until it is gone.
        pruned = await SessionPruner(db.session_factory(engine), interval=60, batch=3).prune()
        assert pruned == 7
        counts = dict(
            await conn.fetch("SELECT user_id, count(*) FROM sessions GROUP BY user_id")  # type: ignore[arg-type]
        )
        assert counts == {first: 2, second: 1}
        assert await conn.fetchval("SELECT count(*) FROM refresh_tokens") == 3
        assert await conn.fetchval("SELECT count(*) FROM sessions WHERE expires_at < now()") == 0
    finally:
        await engine.dispose()
        await conn.close()


async def test_the_pruner_finds_expired_sessions_by_their_expiry_not_by_user(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["auth"])
    conn = await asyncpg.connect(libpq(database.admin_url))
    try:
        await conn.execute("SET search_path = auth")
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT id FROM sessions WHERE expires_at < now() "
                "ORDER BY expires_at LIMIT 1000"
            )
        )
        assert "ix_sessions_expires_at" in plan
    finally:
        await conn.close()
