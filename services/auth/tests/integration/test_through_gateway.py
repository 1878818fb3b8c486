"""The SPEC's auth flows end to end: client → gateway → auth, all real processes.

The gateway routes ``/api/v1/auth/...`` to auth without rewriting, checks
access tokens against auth's JWKS and the shared revocation list, and passes
the client's address on in ``X-Forwarded-For``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg
import httpx
import jwt
import pytest

from wishlist_shared.problems import MEDIA_TYPE
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Stack

if TYPE_CHECKING:
    from conftest import AuthApi, MakeForgeries, StartAuth

pytestmark = pytest.mark.system

StartPlatform = Callable[..., Awaitable["AuthApi"]]


@pytest.fixture
async def start_platform(start_auth: StartAuth, stack: Stack) -> AsyncIterator[StartPlatform]:
    """Auth (with ``AUTH_*`` overrides) and the gateway; the client talks to the gateway."""
    clients: list[httpx.AsyncClient] = []

    async def start(**auth_overrides: str) -> AuthApi:
        direct = await start_auth(**auth_overrides)
        await stack.start("gateway")
        client = httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10)
        clients.append(client)
        return type(direct)(client)

    yield start
    for client in clients:
        await client.aclose()


@pytest.fixture
async def gateway(start_platform: StartPlatform) -> AuthApi:
    return await start_platform()


async def test_register_login_me_refresh_logout_through_the_gateway(gateway: AuthApi) -> None:
    account = await gateway.register(" Kim@Example.com ", display_name="Kim")
    assert account.user["email"] == "kim@example.com"
    tokens = await gateway.tokens(account)
    assert tokens["token_type"] == "bearer"
    me = await gateway.me(tokens["access_token"])
    assert me.status_code == 200
    assert me.json() == account.user

    refreshed = await gateway.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert (await gateway.me(new["access_token"])).status_code == 200

    logout = await gateway.http.post(
        "/api/v1/auth/logout",
        json={"refresh_token": new["refresh_token"]},
        headers=gateway.bearer(new["access_token"]),
    )
    assert logout.status_code == 204
    # The gateway itself refuses the logged-out token at once.
    assert (await gateway.me(new["access_token"])).status_code == 401
    assert (await gateway.refresh(new["refresh_token"])).status_code == 401


async def test_registration_errors_through_the_gateway(gateway: AuthApi) -> None:
    await gateway.register("lee@example.com")
    taken = await gateway.http.post(
        "/api/v1/auth/register",
        json={"email": "LEE@example.com", "password": "long enough", "display_name": "Lee"},
    )
    assert taken.status_code == 409
    assert taken.headers["content-type"] == MEDIA_TYPE
    invalid = await gateway.http.post(
        "/api/v1/auth/register", json={"email": "nope", "password": "x", "display_name": ""}
    )
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {
        "body.email",
        "body.password",
        "body.display_name",
    }


async def test_login_failures_look_alike_and_lock_the_account(
    start_platform: StartPlatform,
) -> None:
    gateway = await start_platform(AUTH_LOGIN_FAILURES_PER_ACCOUNT="3")
    account = await gateway.register()
    wrong = await gateway.login(account.email, "not it", **{"X-Forwarded-For": "203.0.113.1"})
    unknown = await gateway.login(
        "nobody@example.com", "not it", **{"X-Forwarded-For": "203.0.113.2"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    for address in ("203.0.113.3", "203.0.113.4"):
        again = await gateway.login(account.email, "not it", **{"X-Forwarded-For": address})
        assert again.status_code == 401
    locked = await gateway.login(
        account.email, account.password, **{"X-Forwarded-For": "203.0.113.5"}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


async def test_auth_sees_the_client_address_the_gateway_vouches_for(
    start_platform: StartPlatform,
) -> None:
    gateway = await start_platform(AUTH_LOGIN_FAILURES_PER_ADDRESS="2")
    account = await gateway.register()
    for n in range(2):
        response = await gateway.login(
            f"guess-{n}@example.com", "wrong", **{"X-Forwarded-For": "203.0.113.50"}
        )
        assert response.status_code == 401
    blocked = await gateway.login(
        account.email, account.password, **{"X-Forwarded-For": "203.0.113.50"}
    )
    assert blocked.status_code == 429
    elsewhere = await gateway.login(
        account.email, account.password, **{"X-Forwarded-For": "203.0.113.51"}
    )
    assert elsewhere.status_code == 200


async def test_refresh_reuse_kills_the_family_at_the_gateway(gateway: AuthApi) -> None:
    account = await gateway.register()
    first = await gateway.tokens(account)
    second = (await gateway.refresh(first["refresh_token"])).json()
    assert (await gateway.refresh(first["refresh_token"])).status_code == 401
    assert (await gateway.me(second["access_token"])).status_code == 401
    assert (await gateway.refresh(second["refresh_token"])).status_code == 401


async def test_profile_password_and_deletion_through_the_gateway(gateway: AuthApi) -> None:
    account = await gateway.register(display_name="Max")
    current = await gateway.tokens(account)
    other = await gateway.tokens(account)

    patched = await gateway.http.patch(
        "/api/v1/auth/me",
        json={"display_name": "Maxine"},
        headers=gateway.bearer(current["access_token"]),
    )
    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Maxine"

    wrong = await gateway.http.post(
        "/api/v1/auth/me/password",
        json={"current_password": "not it", "new_password": "a new password"},
        headers=gateway.bearer(current["access_token"]),
    )
    assert wrong.status_code == 401
    changed = await gateway.http.post(
        "/api/v1/auth/me/password",
        json={"current_password": account.password, "new_password": "a new password"},
        headers=gateway.bearer(current["access_token"]),
    )
    assert changed.status_code == 204
    assert (await gateway.me(other["access_token"])).status_code == 401
    assert (await gateway.me(current["access_token"])).status_code == 200

    deleted = await gateway.http.delete(
        "/api/v1/auth/me", headers=gateway.bearer(current["access_token"])
    )
    assert deleted.status_code == 204
    assert (await gateway.me(current["access_token"])).status_code == 401
    assert (await gateway.login(account.email, "a new password")).status_code == 401


async def test_the_gateway_serves_auths_jwks_and_refuses_forged_tokens(
    gateway: AuthApi, make_forgeries: MakeForgeries
) -> None:
    jwks = await gateway.http.get("/api/v1/auth/jwks.json")
    assert jwks.status_code == 200
    tokens = await make_forgeries(gateway)
    assert jwt.get_unverified_header(tokens.honest)["kid"] in {
        k["kid"] for k in jwks.json()["keys"]
    }
    assert (await gateway.me(tokens.honest)).status_code == 200
    for name, token in tokens.forged.items():
        response = await gateway.me(token)
        assert response.status_code == 401, name
    assert (await gateway.http.get("/api/v1/auth/me")).status_code == 401


async def test_the_refresh_cookie_round_trips_through_the_gateway(gateway: AuthApi) -> None:
    cookie_mode = {"X-Refresh-Token-Transport": "cookie"}
    account = await gateway.register()

    login = await gateway.login(account.email, account.password, **cookie_mode)
    assert login.status_code == 200, login.text
    assert login.json()["refresh_token"] is None
    [set_cookie] = login.headers.get_list("set-cookie")
    first, *flags = set_cookie.split("; ")
    name, _, cookie = first.partition("=")
    assert name == "wishlist_refresh"
    assert cookie
    assert set(flags) == {
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=2592000",
        "Secure",
    }

    # The gateway passes the browser's Cookie header on to auth, and auth's
    # Set-Cookie back.
    refreshed = await gateway.http.post(
        "/api/v1/auth/refresh", headers={**cookie_mode, "Cookie": f"wishlist_refresh={cookie}"}
    )
    assert refreshed.status_code == 200, refreshed.text
    [rotated] = refreshed.headers.get_list("set-cookie")
    new_cookie = rotated.split("; ")[0].partition("=")[2]
    assert new_cookie not in ("", cookie)
    access = refreshed.json()["access_token"]
    assert (await gateway.me(access)).status_code == 200

    # Logout is not a public route at the gateway: the access token comes along.
    logout = await gateway.http.post(
        "/api/v1/auth/logout",
        headers={
            **cookie_mode,
            **gateway.bearer(access),
            "Cookie": f"wishlist_refresh={new_cookie}",
        },
    )
    assert logout.status_code == 204, logout.text
    [cleared] = logout.headers.get_list("set-cookie")
    assert cleared.startswith("wishlist_refresh=; ")
    assert "Max-Age=0" in cleared.split("; ")
    assert (await gateway.me(access)).status_code == 401

    # The merged OpenAPI document tells clients about the opt-in header.
    document = (await gateway.http.get("/api/v1/openapi.json")).json()
    parameters = document["paths"]["/api/v1/auth/refresh"]["post"]["parameters"]
    assert {(p["in"], p["name"]) for p in parameters} >= {
        ("header", "X-Refresh-Token-Transport"),
        ("cookie", "wishlist_refresh"),
    }


async def test_a_forgotten_password_is_reset_through_the_gateway_without_a_token(
    start_auth: StartAuth, stack: Stack
) -> None:
    direct = await start_auth()
    await stack.start("gateway", GATEWAY_AUTH_FAILURE_LIMIT="3")
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10) as client:
        gateway = type(direct)(client)
        account = await gateway.register()
        tokens = await gateway.tokens(account)

        asked = await client.post("/api/v1/auth/password-reset", json={"email": account.email})
        assert asked.status_code == 202

        async def mailed_token() -> str | None:
            conn = await asyncpg.connect(stack.database.admin_url)
            try:
                body = await conn.fetchval(
                    "SELECT body FROM auth.outbox"
                    " WHERE routing_key = 'auth.password_reset_requested.v1'"
                )
            finally:
                await conn.close()
            return None if body is None else str(json.loads(body)["payload"]["reset_token"])

        token = await eventually(mailed_token, message="no reset token was issued")
        assert token is not None
        confirmed = await client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "new_password": "reset through the gateway"},
        )
        assert confirmed.status_code == 204
        # The gateway itself refuses the old session's access token at once.
        assert (await gateway.me(tokens["access_token"])).status_code == 401
        assert (await gateway.login(account.email, "reset through the gateway")).status_code == 200

        # Guessing tokens is throttled like guessing passwords: the spent one
        # and two made-up ones are refused, and the budget of 3 is gone.
        guesses = [token, secrets.token_urlsafe(32), secrets.token_urlsafe(32)]
        refused = [
            await client.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": guess, "new_password": "whatever-new-1"},
            )
            for guess in guesses
        ]
        assert [r.status_code for r in refused] == [400, 400, 400]
        assert refused[0].json()["type"] == "/problems/reset-token-invalid"
        throttled = await client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": secrets.token_urlsafe(32), "new_password": "whatever-new-1"},
        )
        assert throttled.status_code == 429
