"""A fresh database per test, cloned from a template migrated once per session."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from wishlist_shared.db.bootstrap import ServiceDatabase, bootstrap
from wishlist_shared.db.engine import role_name


def _password(service: str) -> str:
    return f"dev-insecure-{service}"


def service_url(admin_url: str, database: str, service: str) -> str:
    """The asyncpg URL with which ``service`` reaches ``database`` as its own role."""
    return (
        make_url(admin_url)
        .set(
            drivername="postgresql+asyncpg",
            username=role_name(service),
            password=_password(service),
            database=database,
        )
        .render_as_string(hide_password=False)
    )


@dataclass
class TestDatabase:
    name: str
    urls: dict[str, str]
    """Per service: the URL it connects with, as its own role."""
    admin_url: str
    """Superuser URL (libpq form) on this database, for assertions that need it."""


@dataclass
class DatabaseFactory:
    admin_url: str
    repo_root: Path
    _templates: dict[tuple[str, ...], str] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _admin_on(self, database: str) -> str:
        return (
            make_url(self.admin_url)
            .set(drivername="postgresql", database=database)
            .render_as_string(hide_password=False)
        )

    async def _bootstrap(self, database: str, services: Sequence[str]) -> None:
        if not services:
            return
        await bootstrap(
            self.admin_url,
            [ServiceDatabase(s, role_name(s), _password(s), database) for s in services],
        )

    async def _migrate(self, database: str, services: Sequence[str]) -> None:
        for service in services:
            env = {
                **os.environ,
                f"{service.upper()}_DATABASE_URL": service_url(self.admin_url, database, service),
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "alembic",
                "upgrade",
                "head",
                cwd=self.repo_root / "services" / service,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            out, _ = await proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"migrations of {service} failed:\n{out.decode()}")

    async def _template(self, services: tuple[str, ...]) -> str:
        async with self._lock:
            if services not in self._templates:
                name = f"tmpl_{uuid.uuid4().hex[:12]}"
                await self._admin_execute(f'CREATE DATABASE "{name}"')
                await self._bootstrap(name, services)
                await self._migrate(name, services)
                self._templates[services] = name
            return self._templates[services]

    async def create(self, services: Sequence[str]) -> TestDatabase:
        key = tuple(sorted(services))
        template = await self._template(key)
        name = f"t_{uuid.uuid4().hex[:16]}"
        await self._admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        # Database-level grants and per-database role settings are not copied
        # from a template: apply them again.
        await self._bootstrap(name, key)
        return TestDatabase(
            name=name,
            urls={s: service_url(self.admin_url, name, s) for s in key},
            admin_url=self._admin_on(name),
        )

    async def drop(self, name: str) -> None:
        await self._admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _admin_execute(self, statement: str) -> None:
        conn = await asyncpg.connect(self._admin_on("postgres"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def drop_templates(self) -> None:
        for name in self._templates.values():
            await self.drop(name)
        self._templates.clear()
