"""Which failures are an outage to wait out (or a 503), and which are a bug or a bad event.

The errors come from the real servers, through the same layers as in the
services (SQLAlchemy over asyncpg, redis-py), so the chains of causes searched
are the real ones. PostgreSQL raises the codes an outage would (a locked-out
role, a serialization failure) from a ``DO`` block: no role of the shared
server is touched.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wishlist_shared import problems
from wishlist_shared.outages import dependency_unavailable, transaction_conflict
from wishlist_shared.testing.servers import Servers

NOLOGIN = 'role "wishlists" is not permitted to log in'


def _asyncpg_url(servers: Servers, *, user: str | None = None, port: int | None = None) -> str:
    url = urlsplit(servers.postgres_admin_url)
    password = f":{url.password}" if url.password else ""
    return (
        f"postgresql+asyncpg://{user or url.username}{password}@{url.hostname}:"
        f"{port or url.port or 5432}{url.path}"
    )


def _free_port() -> int:
    # Bound then closed: nothing listens there, so a connection is refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _wrapped(cause: BaseException) -> BaseException:
    wrapper = RuntimeError("could not apply the event")
    wrapper.__cause__ = cause
    return wrapper


@pytest.fixture
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(_asyncpg_url(servers))
    yield engine
    await engine.dispose()


async def _raised_by(engine: AsyncEngine, sql: str) -> BaseException:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error: classified below
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    return caught.value


def _raise_sqlstate(code: str, message: str) -> str:
    quoted = message.replace("'", "''")
    return f"DO $$ BEGIN RAISE EXCEPTION '{quoted}' USING ERRCODE = '{code}'; END $$"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("28000", NOLOGIN),  # ALTER ROLE ... NOLOGIN, seen at the next connection
        ("40001", "could not serialize access due to concurrent update"),
        ("40P01", "deadlock detected"),
        ("53300", "sorry, too many clients already"),
        ("57P01", "terminating connection due to administrator command"),
        ("57P03", "the database system is starting up"),
    ],
)
async def test_postgresql_outage_codes_through_sqlalchemy_are_transient(
    engine: AsyncEngine, code: str, message: str
) -> None:
    exc = await _raised_by(engine, _raise_sqlstate(code, message))
    assert dependency_unavailable(exc), repr(exc)
    # Only a lost race is a conflict, retried without pausing the other consumers.
    assert transaction_conflict(exc) == (code in {"40001", "40P01"})
    # Wrapped once more by the code that called the database: still found.
    assert dependency_unavailable(_wrapped(exc))


async def test_an_integrity_error_and_a_bad_query_are_not_transient(engine: AsyncEngine) -> None:
    assert not dependency_unavailable(await _raised_by(engine, _raise_sqlstate("23505", "dup")))
    assert not dependency_unavailable(await _raised_by(engine, "SELECT * FROM no_such_table"))
    assert not dependency_unavailable(await _raised_by(engine, "SELECT 1/0"))


async def test_a_role_that_may_not_log_in_is_transient(servers: Servers) -> None:
    # The server refuses the login with class 28, as for a locked-out role.
    engine = create_async_engine(_asyncpg_url(servers, user="no_such_role_for_this_test"))
    try:
        exc = await _raised_by(engine, "SELECT 1")
    finally:
        await engine.dispose()
    assert dependency_unavailable(exc), repr(exc)


async def test_postgresql_and_redis_refusing_connections_are_transient(servers: Servers) -> None:
    engine = create_async_engine(_asyncpg_url(servers, port=_free_port()))
    try:
        assert dependency_unavailable(await _raised_by(engine, "SELECT 1"))
    finally:
        await engine.dispose()
    client = Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=1)
    try:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - classified below
            await client.ping()
    finally:
        await client.aclose()
    assert dependency_unavailable(caught.value), repr(caught.value)


def test_a_plain_bug_and_a_bad_event_are_not_transient() -> None:
    assert not dependency_unavailable(KeyError("payload"))
    # OSErrors that no waiting mends: a handler would hold its consumers forever.
    assert not dependency_unavailable(FileNotFoundError(2, "No such file", "/etc/missing"))
    assert not dependency_unavailable(PermissionError(13, "Permission denied"))
    assert not dependency_unavailable(ValueError("unknown version 9"))
    assert not dependency_unavailable(_wrapped(KeyError("missing")))


def test_network_errors_as_asyncio_and_smtp_raise_them_are_transient() -> None:
    assert dependency_unavailable(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert dependency_unavailable(OSError(101, "Network is unreachable"))
    assert dependency_unavailable(socket.gaierror(-2, "Name or service not known"))
    assert dependency_unavailable(aiosmtplib.SMTPConnectError("Connection refused"))
    assert dependency_unavailable(aiosmtplib.SMTPServerDisconnected("Connection lost"))
    assert dependency_unavailable(aiosmtplib.SMTPReadTimeoutError("Timed out"))
    assert not dependency_unavailable(aiosmtplib.SMTPRecipientRefused(550, "no", "a@b"))


def test_a_dependency_unavailable_problem_is_transient() -> None:
    exc = problems.Problem(problems.DEPENDENCY_UNAVAILABLE, "Redis is restarting")
    assert dependency_unavailable(exc)
    assert not dependency_unavailable(problems.Problem(problems.ProblemType(409, "c", "C"), "no"))


async def test_a_locked_out_role_during_a_request_is_a_503(engine: AsyncEngine) -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/locked")
    async def locked() -> None:
        async with engine.connect() as conn:
            await conn.execute(text(_raise_sqlstate("28000", NOLOGIN)))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/locked")
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/dependency-unavailable"
    assert int(response.headers["retry-after"]) > 0
