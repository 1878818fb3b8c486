"""Creates the platform's database, one login role and one schema per service. Idempotent.

Run as an administrator (``DATABASE_ADMIN_URL``) before migrations::

    python -m wishlist_shared.db.bootstrap auth wishlists notifier

Each service's role, password and database come from that service's own URL
(``AUTH_DATABASE_URL`` and so on, same defaults as the services), so there is
one source of truth. Each role owns its schema and has no right on any other:
the architecture's "a service reads only its own schema" is enforced by
PostgreSQL, not by convention.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from wishlist_shared.db.engine import default_database_url

log = logging.getLogger(__name__)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class ServiceDatabase:
    service: str
    role: str
    password: str
    database: str

    @classmethod
    def from_url(cls, service: str, url: str) -> ServiceDatabase:
        parsed = make_url(url)
        if not parsed.username or not parsed.database:
            raise ValueError(f"{service}: database URL needs a user and a database")
        return cls(service, parsed.username, parsed.password or "", parsed.database)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _admin_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def bootstrap(admin_url: str, services: list[ServiceDatabase]) -> None:
    databases = {s.database for s in services}
    admin = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        for db in sorted(databases):
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db)
            if not exists:
                await admin.execute(f"CREATE DATABASE {_ident(db)}")
                log.info("created database %s", db)
        for s in services:
            # Role DDL is not transactional across concurrent runs; a lock
            # keeps two bootstraps (two CI jobs, two replicas) from racing.
            await admin.execute("SELECT pg_advisory_lock(hashtext('wishlist-bootstrap'))")
            try:
                exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", s.role)
                verb = "ALTER" if exists else "CREATE"
                await admin.execute(
                    f"{verb} ROLE {_ident(s.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    f"PASSWORD {_literal(s.password)}"
                )
            finally:
                await admin.execute("SELECT pg_advisory_unlock(hashtext('wishlist-bootstrap'))")
    finally:
        await admin.close()

    for db in sorted(databases):
        conn = await asyncpg.connect(_admin_dsn(admin_url, db))
        try:
            async with conn.transaction():
                await conn.execute(f"REVOKE ALL ON DATABASE {_ident(db)} FROM PUBLIC")
                await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
                for s in (s for s in services if s.database == db):
                    role, schema = _ident(s.role), _ident(s.service)
                    await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(db)} TO {role}")
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
                    await conn.execute(f"ALTER SCHEMA {schema} OWNER TO {role}")
                    await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
                    await conn.execute(
                        f"ALTER ROLE {role} IN DATABASE {_ident(db)} SET search_path = {schema}"
                    )
        finally:
            await conn.close()
    log.info("bootstrapped %s", ", ".join(s.service for s in services))


def service_from_env(service: str) -> ServiceDatabase:
    url = os.environ.get(f"{service.upper()}_DATABASE_URL", default_database_url(service))
    return ServiceDatabase.from_url(service, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("services", nargs="+")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    admin_url = os.environ.get("DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    asyncio.run(bootstrap(admin_url, [service_from_env(s) for s in args.services]))


if __name__ == "__main__":
    main()
