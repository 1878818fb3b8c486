"""Rules the database itself keeps, whatever the code above it does."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from wishlist_shared.testing.plugin import MakeDatabase

SERVICES = ["auth", "wishlists", "notifier"]


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_emails_are_unique_case_insensitively_in_the_table(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["auth"])
    conn = await asyncpg.connect(libpq(database.urls["auth"]))
    try:
        insert = (
            "INSERT INTO users (id, email, display_name, password_hash) "
            "VALUES (gen_random_uuid(), $1, 'x', 'h')"
        )
        await conn.execute(insert, "Jo@Example.com")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "jo@example.COM")
    finally:
        await conn.close()


async def test_there_is_never_more_than_one_active_signing_key(
    make_database: MakeDatabase,
) -> None:
    database = await make_database(["auth"])
    conn = await asyncpg.connect(libpq(database.urls["auth"]))
    try:
        insert = "INSERT INTO signing_keys (kid, public_jwk, private_key_pem) VALUES ($1, '{}', '')"
        await conn.execute(insert, "first")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "second")
        await conn.execute("UPDATE signing_keys SET retired_at = now()")
        await conn.execute(insert, "second")
    finally:
        await conn.close()


@pytest.mark.parametrize("reader", SERVICES)
async def test_a_service_role_cannot_read_another_services_schema(
    make_database: MakeDatabase, reader: str
) -> None:
    database = await make_database(SERVICES)
    admin = await asyncpg.connect(database.admin_url)
    try:
        for schema in SERVICES:
            await admin.execute(f"CREATE TABLE {schema}.probe (x int)")
            await admin.execute(f"INSERT INTO {schema}.probe VALUES (1)")  # noqa: S608 - our constants
    finally:
        await admin.close()

    conn = await asyncpg.connect(libpq(database.urls[reader]))
    try:
        for other in (s for s in SERVICES if s != reader):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {other}.probe")  # noqa: S608 - our constants
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"CREATE TABLE {other}.intruder (x int)")
        # In its own schema it may work, so the refusals above are about rights.
        await conn.execute(f"CREATE TABLE {reader}.mine (x int)")
        mine = f"SELECT count(*) FROM {reader}.mine"  # noqa: S608 - our constants
        assert await conn.fetchval(mine) == 0
    finally:
        await conn.close()
