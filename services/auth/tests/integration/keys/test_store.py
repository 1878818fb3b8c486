"""The key store against a real database: one active key, whoever races for it."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.db import keys as key_rows
from auth.keys.material import KeyCipher
from auth.keys.store import KeyStore
from wishlist_shared.db import engine as db
from wishlist_shared.testing.plugin import MakeDatabase

SECRET = "test-secret-of-enough-length"


def store(url: str) -> tuple[KeyStore, AsyncEngine]:
    engine = db.create_engine(url, "auth", pool_size=2)
    return (
        KeyStore(
            db.session_factory(engine),
            KeyCipher(SECRET),
            access_ttl_seconds=900,
            cache_seconds=60,
        ),
        engine,
    )


async def test_replicas_starting_together_agree_on_one_first_key(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["auth"])
    replicas = [store(database.urls["auth"]) for _ in range(5)]
    try:
        kids = await asyncio.gather(*(s.ensure_active() for s, _ in replicas))
        assert len(set(kids)) == 1
        async with db.session_factory(replicas[0][1])() as session:
            assert [k.life.kid for k in await key_rows.all_keys(session)] == kids[:1]
    finally:
        for _, engine in replicas:
            await engine.dispose()


async def test_rotation_deletes_keys_whose_window_has_ended(make_database: MakeDatabase) -> None:
    database = await make_database(["auth"])
    keys, engine = store(database.urls["auth"])
    try:
        first = await keys.ensure_active()
        second, retired = await keys.rotate()
        assert retired == first
        conn = await asyncpg.connect(database.admin_url)
        try:
            await conn.execute(
                "UPDATE auth.signing_keys SET retired_at = now() - interval '1 hour' "
                "WHERE kid = $1",
                first,
            )
        finally:
            await conn.close()
        third, retired = await keys.rotate()
        assert retired == second
        async with db.session_factory(engine)() as session:
            remaining = {k.life.kid for k in await key_rows.all_keys(session)}
        assert remaining == {second, third}
        assert await keys.key(first) is None
        assert await keys.key(second) is not None
    finally:
        await engine.dispose()
