"""Login, refresh and logout: sessions, rotation, reuse detection, throttling."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from redis.asyncio import Redis

from wishlist_shared.problems import MEDIA_TYPE
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Stack

if TYPE_CHECKING:
    from conftest import AuthApi, StartAuth

pytestmark = pytest.mark.system

# What a trusted proxy (the gateway) says the client's address is.
CLIENT_A = {"X-Forwarded-For": "203.0.113.10"}
CLIENT_B = {"X-Forwarded-For": "203.0.113.20"}
CLIENT_C = {"X-Forwarded-For": "198.51.100.30"}


def jwt_part(token: str, index: int) -> dict[str, Any]:
    """The header (0) or the claims (1) of a JWT, read without verifying it."""
    if index == 0:
        return jwt.get_unverified_header(token)
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_login_answers_tokens(auth: AuthApi) -> None:
    account = await auth.register()
    response = await auth.login(account.email, account.password)
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    header = jwt_part(tokens["access_token"], 0)
    assert header["alg"] == "EdDSA"
    assert header["kid"]
    claims = jwt_part(tokens["access_token"], 1)
    assert set(claims) == {"sub", "sid", "jti", "iat", "nbf", "exp", "iss", "aud"}
    assert claims["sub"] == account.user["id"]
    assert (claims["iss"], claims["aud"]) == ("wishlist-auth", "wishlist")
    assert claims["exp"] == claims["iat"] + 900
    # Opaque: nothing in it to read.
    assert "." not in tokens["refresh_token"]


async def test_login_finds_the_account_whatever_the_letter_case(auth: AuthApi) -> None:
    account = await auth.register("frank@example.com")
    response = await auth.login(" FRANK@example.COM", account.password)
    assert response.status_code == 200


async def test_unknown_email_and_wrong_password_get_the_same_answer(auth: AuthApi) -> None:
    account = await auth.register()
    wrong_password = await auth.login(account.email, "not the password")
    unknown_email = await auth.login("nobody-here@example.com", "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.headers["content-type"] == unknown_email.headers["content-type"]
    assert wrong_password.headers["content-type"] == MEDIA_TYPE
    assert wrong_password.json() == unknown_email.json()


async def test_an_account_is_locked_after_repeated_failures_from_any_address(
    start_auth: StartAuth,
) -> None:
    auth = await start_auth(AUTH_LOGIN_FAILURES_PER_ACCOUNT="3")
    account = await auth.register()
    bystander = await auth.register()
    for client in (CLIENT_A, CLIENT_B, CLIENT_C):
        assert (await auth.login(account.email, "wrong", **client)).status_code == 401
    # Even the right password, from a fresh address: the account is locked.
    locked = await auth.login(account.email, account.password, **{"X-Forwarded-For": "192.0.2.1"})
    assert locked.status_code == 429
    assert locked.headers["content-type"] == MEDIA_TYPE
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert locked.json()["type"] == "/problems/too-many-attempts"
    # Only that account.
    assert (await auth.login(bystander.email, bystander.password, **CLIENT_A)).status_code == 200


async def test_an_address_is_locked_after_repeated_failures_on_any_accounts(
    start_auth: StartAuth,
) -> None:
    auth = await start_auth(AUTH_LOGIN_FAILURES_PER_ADDRESS="3")
    victim = await auth.register()
    for n in range(3):
        response = await auth.login(f"guess-{n}@example.com", "wrong", **CLIENT_A)
        assert response.status_code == 401
    locked = await auth.login(victim.email, victim.password, **CLIENT_A)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    # Only that address.
    assert (await auth.login(victim.email, victim.password, **CLIENT_B)).status_code == 200


async def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_address(
    start_auth: StartAuth,
) -> None:
    # The test talks to auth from 127.0.0.1, which is now not a trusted proxy:
    # every attempt counts against 127.0.0.1, whatever the header claims.
    auth = await start_auth(
        AUTH_LOGIN_FAILURES_PER_ADDRESS="2", AUTH_TRUSTED_PROXIES="192.0.2.0/24"
    )
    account = await auth.register()
    assert (await auth.login("a@example.com", "wrong", **CLIENT_A)).status_code == 401
    assert (await auth.login("b@example.com", "wrong", **CLIENT_B)).status_code == 401
    response = await auth.login(account.email, account.password, **CLIENT_C)
    assert response.status_code == 429


async def test_a_successful_login_clears_the_accounts_earlier_failures(
    start_auth: StartAuth,
) -> None:
    auth = await start_auth(AUTH_LOGIN_FAILURES_PER_ACCOUNT="3")
    account = await auth.register()
    for _ in range(2):
        assert (await auth.login(account.email, "typo")).status_code == 401
    assert (await auth.login(account.email, account.password)).status_code == 200
    for _ in range(2):
        assert (await auth.login(account.email, "typo")).status_code == 401
    assert (await auth.login(account.email, account.password)).status_code == 200


async def test_refresh_rotates_the_refresh_token(auth: AuthApi) -> None:
    account = await auth.register()
    first = await auth.tokens(account)
    response = await auth.refresh(first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["token_type"] == "bearer"
    assert second["expires_in"] == 900
    assert jwt_part(second["access_token"], 1)["sid"] == jwt_part(first["access_token"], 1)["sid"]
    assert (await auth.me(second["access_token"])).status_code == 200
    third = await auth.refresh(second["refresh_token"])
    assert third.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(auth: AuthApi) -> None:
    account = await auth.register()
    first = await auth.tokens(account)
    unrelated = await auth.tokens(account)
    second = (await auth.refresh(first["refresh_token"])).json()

    reuse = await auth.refresh(first["refresh_token"])
    assert reuse.status_code == 401
    assert reuse.json()["type"] == "/problems/invalid-refresh-token"
    # The newer token of the family and its access token are dead too...
    assert (await auth.refresh(second["refresh_token"])).status_code == 401
    assert (await auth.me(second["access_token"])).status_code == 401
    assert (await auth.me(first["access_token"])).status_code == 401
    # ...and another session of the same user is not.
    assert (await auth.me(unrelated["access_token"])).status_code == 200
    assert (await auth.refresh(unrelated["refresh_token"])).status_code == 200


async def test_two_refreshes_racing_with_one_token_never_both_succeed(auth: AuthApi) -> None:
    account = await auth.register()
    tokens = await auth.tokens(account)
    answers = await asyncio.gather(*(auth.refresh(tokens["refresh_token"]) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 401]
    # The loser's attempt is a reuse: the family is gone, winner included.
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await auth.refresh(winner["refresh_token"])).status_code == 401


async def test_an_unknown_refresh_token_is_401(auth: AuthApi) -> None:
    response = await auth.refresh("made-up-token")
    assert response.status_code == 401
    assert response.headers["content-type"] == MEDIA_TYPE
    empty = await auth.http.post("/api/v1/auth/refresh", json={"refresh_token": ""})
    assert empty.status_code == 422


async def test_logout_kills_the_sessions_access_token_at_once(auth: AuthApi) -> None:
    account = await auth.register()
    tokens = await auth.tokens(account)
    other = await auth.tokens(account)
    response = await auth.http.post(
        "/api/v1/auth/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=auth.bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert response.content == b""
    assert (await auth.me(tokens["access_token"])).status_code == 401
    assert (await auth.refresh(tokens["refresh_token"])).status_code == 401
    assert (await auth.me(other["access_token"])).status_code == 200


async def test_logout_with_only_the_refresh_token_still_kills_its_access_tokens(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    tokens = await auth.tokens(account)
    refreshed = (await auth.refresh(tokens["refresh_token"])).json()
    response = await auth.http.post(
        "/api/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]}
    )
    assert response.status_code == 204
    assert (await auth.me(refreshed["access_token"])).status_code == 401
    assert (await auth.me(tokens["access_token"])).status_code == 401


async def test_logging_out_twice_is_harmless(auth: AuthApi) -> None:
    account = await auth.register()
    tokens = await auth.tokens(account)
    for _ in range(2):
        response = await auth.http.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
        )
        assert response.status_code == 204


async def test_a_logout_survives_redis_losing_every_key(
    auth: AuthApi, redis: Redis, stack: Stack
) -> None:
    account = await auth.register()
    ended, alive = await auth.tokens(account), await auth.tokens(account)
    logout = await auth.http.post(
        "/api/v1/auth/logout",
        json={"refresh_token": ended["refresh_token"]},
        headers=auth.bearer(ended["access_token"]),
    )
    assert logout.status_code == 204

    # What a Redis restart without persistence leaves: nothing.
    prefix = stack.namespace.redis_prefix
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    await redis.delete(*keys)

    # Auth notices and writes the list back from its database.
    async def restored() -> bool:
        return (await auth.me(alive["access_token"])).status_code == 200

    await eventually(restored, timeout=10, message="the revocation list was never restored")
    assert (await auth.me(ended["access_token"])).status_code == 401
