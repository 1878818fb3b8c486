"""Cookie mode: the refresh token in an httpOnly cookie, for browsers that opt in.

Every request here sets its ``Cookie`` header by hand, as a browser would
send it; the test client's own cookie jar never plays a part (it would not
send a ``Secure`` cookie over http anyway).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from wishlist_shared.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from conftest import Account, AuthApi, StartAuth

pytestmark = pytest.mark.system

COOKIE = "wishlist_refresh"
COOKIE_MODE = {"X-Refresh-Token-Transport": "cookie"}
REFRESH_TTL = 30 * 24 * 3600
FLAGS = {"HttpOnly", "SameSite=Strict", "Path=/api/v1/auth", "Secure"}


def set_cookie(response: httpx.Response) -> tuple[str, set[str]]:
    """The value and attributes of the one ``Set-Cookie`` of ``response``."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    first, *attributes = headers[0].split("; ")
    name, _, value = first.partition("=")
    assert name == COOKIE
    return value, set(attributes)


def sent(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={cookie}"}


async def cookie_login(auth: AuthApi, account: Account) -> tuple[dict[str, Any], str]:
    response = await auth.login(account.email, account.password, **COOKIE_MODE)
    assert response.status_code == 200, response.text
    value, _ = set_cookie(response)
    tokens: dict[str, Any] = response.json()
    return tokens, value


async def post(auth: AuthApi, route: str, headers: dict[str, str], **body: str) -> httpx.Response:
    """``route`` with the given headers and, only when given, a JSON body."""
    return await auth.http.post(
        f"{auth.prefix}/{route}", headers=headers, json=body if body else None
    )


def assert_cleared(response: httpx.Response, *, secure: bool = True) -> None:
    value, attributes = set_cookie(response)
    assert value == ""
    assert attributes == (FLAGS if secure else FLAGS - {"Secure"}) | {"Max-Age=0"}


async def test_login_in_cookie_mode_sets_the_cookie_and_nulls_the_body_token(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    # The header's value is read in any letter case.
    response = await auth.login(
        account.email, account.password, **{"X-Refresh-Token-Transport": "Cookie"}
    )

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["refresh_token"] is None
    assert tokens["token_type"] == "bearer"
    value, attributes = set_cookie(response)
    assert len(value) >= 40
    assert "." not in value
    assert attributes == FLAGS | {f"Max-Age={REFRESH_TTL}"}
    assert (await auth.me(tokens["access_token"])).status_code == 200


async def test_the_json_contract_is_unchanged_without_the_header(auth: AuthApi) -> None:
    account = await auth.register()
    login = await auth.login(account.email, account.password)
    refreshed = await auth.refresh(login.json()["refresh_token"])

    for response in (login, refreshed):
        assert response.status_code == 200
        assert isinstance(response.json()["refresh_token"], str)
        assert "set-cookie" not in response.headers


async def test_refresh_from_the_cookie_rotates_it_and_replaying_the_old_one_revokes_the_family(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    first, old_cookie = await cookie_login(auth, account)

    refreshed = await post(auth, "refresh", {**COOKIE_MODE, **sent(old_cookie)})

    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] is None
    assert second["access_token"] != first["access_token"]
    new_cookie, attributes = set_cookie(refreshed)
    assert new_cookie != old_cookie
    assert attributes == FLAGS | {f"Max-Age={REFRESH_TTL}"}
    assert (await auth.me(second["access_token"])).status_code == 200

    # The old cookie is spent: replaying it is a reuse, and the family dies.
    replay = await post(auth, "refresh", {**COOKIE_MODE, **sent(old_cookie)})
    assert replay.status_code == 401
    assert replay.headers["content-type"] == MEDIA_TYPE
    assert replay.json()["type"] == "/problems/invalid-refresh-token"
    assert_cleared(replay)
    assert (await auth.me(second["access_token"])).status_code == 401
    after = await post(auth, "refresh", {**COOKIE_MODE, **sent(new_cookie)})
    assert after.status_code == 401
    assert_cleared(after)


async def test_in_cookie_mode_a_token_in_the_body_wins_and_comes_back_as_a_cookie(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    json_tokens = await auth.tokens(account)
    _, unrelated_cookie = await cookie_login(auth, account)

    response = await post(
        auth,
        "refresh",
        {**COOKIE_MODE, **sent(unrelated_cookie)},
        refresh_token=json_tokens["refresh_token"],
    )

    assert response.status_code == 200
    assert response.json()["refresh_token"] is None
    cookie, _ = set_cookie(response)
    assert cookie not in (json_tokens["refresh_token"], unrelated_cookie)
    # The cookie's own token was not touched: it still works.
    assert (await post(auth, "refresh", {**COOKIE_MODE, **sent(unrelated_cookie)})).is_success


async def test_refresh_in_cookie_mode_without_any_token_is_401_and_clears_the_cookie(
    auth: AuthApi,
) -> None:
    for body in ({}, {"refresh_token": None}):
        response = await auth.http.post(f"{auth.prefix}/refresh", headers=COOKIE_MODE, json=body)
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-refresh-token"
        assert_cleared(response)
    no_body = await post(auth, "refresh", COOKIE_MODE)
    assert no_body.status_code == 401
    assert_cleared(no_body)
    unknown = await post(auth, "refresh", {**COOKIE_MODE, **sent("made-up-token")})
    assert unknown.status_code == 401
    assert_cleared(unknown)


async def test_logout_from_the_cookie_ends_the_session_and_clears_the_cookie(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    tokens, cookie = await cookie_login(auth, account)
    other, _ = await cookie_login(auth, account)

    # No bearer token and no body: the cookie alone names the session.
    response = await post(auth, "logout", {**COOKIE_MODE, **sent(cookie)})

    assert response.status_code == 204
    assert response.content == b""
    assert_cleared(response)
    assert (await auth.me(tokens["access_token"])).status_code == 401
    assert (await post(auth, "refresh", {**COOKIE_MODE, **sent(cookie)})).status_code == 401
    assert (await auth.me(other["access_token"])).status_code == 200


async def test_logout_in_cookie_mode_without_a_cookie_still_answers_204_and_clears_it(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    tokens, _ = await cookie_login(auth, account)

    bare = await post(auth, "logout", COOKIE_MODE)
    assert bare.status_code == 204
    assert_cleared(bare)
    # The bearer token's session still ends, as in JSON mode.
    with_bearer = await post(auth, "logout", {**COOKIE_MODE, **auth.bearer(tokens["access_token"])})
    assert with_bearer.status_code == 204
    assert_cleared(with_bearer)
    assert (await auth.me(tokens["access_token"])).status_code == 401


async def test_without_the_header_the_cookie_is_ignored(auth: AuthApi) -> None:
    """Refresh or logout with only the cookie: 422, the token is missing, as in JSON mode.

    Not 401: without the header the request is a JSON-mode request without
    its required body, whatever cookies came along.
    """
    account = await auth.register()
    tokens, cookie = await cookie_login(auth, account)

    for route in ("refresh", "logout"):
        no_body = await post(auth, route, sent(cookie))
        assert no_body.status_code == 422, route
        assert [e["field"] for e in no_body.json()["errors"]] == ["body"]
        empty = await auth.http.post(f"{auth.prefix}/{route}", headers=sent(cookie), json={})
        assert empty.status_code == 422, route
        assert [e["field"] for e in empty.json()["errors"]] == ["body.refresh_token"]
        for response in (no_body, empty):
            assert response.headers["content-type"] == MEDIA_TYPE
            assert "set-cookie" not in response.headers
    # Neither attempt touched the session: the cookie still refreshes it.
    assert (await auth.me(tokens["access_token"])).status_code == 200
    assert (await post(auth, "refresh", {**COOKIE_MODE, **sent(cookie)})).status_code == 200


async def test_another_header_value_is_not_cookie_mode(auth: AuthApi) -> None:
    account = await auth.register()
    response = await auth.login(
        account.email, account.password, **{"X-Refresh-Token-Transport": "body"}
    )

    assert response.status_code == 200
    assert isinstance(response.json()["refresh_token"], str)
    assert "set-cookie" not in response.headers


async def test_the_secure_flag_can_be_turned_off(start_auth: StartAuth) -> None:
    auth = await start_auth(AUTH_REFRESH_COOKIE_SECURE="false")
    account = await auth.register()

    _, cookie = await cookie_login(auth, account)
    login = await auth.login(account.email, account.password, **COOKIE_MODE)
    logout = await post(auth, "logout", {**COOKIE_MODE, **sent(cookie)})

    assert set_cookie(login)[1] == FLAGS - {"Secure"} | {f"Max-Age={REFRESH_TTL}"}
    assert_cleared(logout, secure=False)
