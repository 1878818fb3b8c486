"""Registration and the caller's own account, against a running auth process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from wishlist_shared.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from conftest import AuthApi

pytestmark = pytest.mark.system


async def test_register_answers_201_with_the_user_under_a_canonical_email(auth: AuthApi) -> None:
    response = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "  Alice@Example.COM ", "password": "s3cret-enough", "display_name": " Al "},
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == {"id", "email", "display_name", "created_at"}
    assert user["email"] == "alice@example.com"
    assert user["display_name"] == "Al"
    assert user["created_at"].endswith(("Z", "+00:00"))


async def test_an_email_is_taken_whatever_its_letter_case(auth: AuthApi) -> None:
    await auth.register("bob@example.com")
    response = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "BOB@Example.Com", "password": "another-password", "display_name": "B"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == MEDIA_TYPE
    problem = response.json()
    assert problem["status"] == 409
    assert problem["type"] == "/problems/email-taken"
    assert {"title", "detail"} <= set(problem)


async def test_invalid_registrations_are_422_naming_each_field(auth: AuthApi) -> None:
    response = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "not-an-address", "password": "short", "display_name": "   "},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == MEDIA_TYPE
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"body.email", "body.password", "body.display_name"}


async def test_passwords_and_names_beyond_their_bounds_are_422(auth: AuthApi) -> None:
    too_long = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "c@example.com", "password": "p" * 129, "display_name": "n" * 81},
    )
    assert too_long.status_code == 422
    assert {e["field"] for e in too_long.json()["errors"]} == {
        "body.password",
        "body.display_name",
    }
    for name in ("Nul\x00byte", "Two\nlines", "Tab\there"):
        control = await auth.http.post(
            "/api/v1/auth/register",
            json={"email": "c@example.com", "password": "p" * 8, "display_name": name},
        )
        assert control.status_code == 422, name
        assert [e["field"] for e in control.json()["errors"]] == ["body.display_name"]
    at_the_bounds = await auth.http.post(
        "/api/v1/auth/register",
        json={"email": "c@example.com", "password": "p" * 128, "display_name": "n" * 80},
    )
    assert at_the_bounds.status_code == 201
    missing = await auth.http.post("/api/v1/auth/register", json={})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {
        "body.email",
        "body.password",
        "body.display_name",
    }


async def test_me_answers_the_callers_user(auth: AuthApi) -> None:
    account = await auth.register(display_name="Dora")
    tokens = await auth.tokens(account)
    response = await auth.me(tokens["access_token"])
    assert response.status_code == 200
    assert response.json() == account.user


async def test_me_without_a_token_is_401_problem(auth: AuthApi) -> None:
    response = await auth.http.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"
    garbage = await auth.me("not.a.token")
    assert garbage.status_code == 401


async def test_patch_me_changes_the_display_name(auth: AuthApi) -> None:
    account = await auth.register(display_name="Before")
    access = (await auth.tokens(account))["access_token"]
    response = await auth.http.patch(
        "/api/v1/auth/me", json={"display_name": "  After  "}, headers=auth.bearer(access)
    )
    assert response.status_code == 200
    assert response.json() == {**account.user, "display_name": "After"}
    assert (await auth.me(access)).json()["display_name"] == "After"


async def test_patch_me_refuses_an_empty_or_overlong_name(auth: AuthApi) -> None:
    account = await auth.register()
    access = (await auth.tokens(account))["access_token"]
    for name in ("", "x" * 81, "Eve\x00", "Eve\r\nBcc: x@example.com"):
        response = await auth.http.patch(
            "/api/v1/auth/me", json={"display_name": name}, headers=auth.bearer(access)
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["body.display_name"]
    unauthenticated = await auth.http.patch("/api/v1/auth/me", json={"display_name": "Eve"})
    assert unauthenticated.status_code == 401


async def test_password_change_ends_every_other_session_but_keeps_this_one(auth: AuthApi) -> None:
    account = await auth.register()
    current = await auth.tokens(account)
    other = await auth.tokens(account)
    response = await auth.http.post(
        "/api/v1/auth/me/password",
        json={"current_password": account.password, "new_password": "a brand new password"},
        headers=auth.bearer(current["access_token"]),
    )
    assert response.status_code == 204
    # The other session: its access token at once, and its refresh token.
    assert (await auth.me(other["access_token"])).status_code == 401
    assert (await auth.refresh(other["refresh_token"])).status_code == 401
    # This session goes on.
    assert (await auth.me(current["access_token"])).status_code == 200
    assert (await auth.refresh(current["refresh_token"])).status_code == 200
    # And the credentials changed.
    assert (await auth.login(account.email, account.password)).status_code == 401
    assert (await auth.login(account.email, "a brand new password")).status_code == 200


async def test_password_change_with_a_wrong_current_password_is_401_and_changes_nothing(
    auth: AuthApi,
) -> None:
    account = await auth.register()
    current = await auth.tokens(account)
    other = await auth.tokens(account)
    response = await auth.http.post(
        "/api/v1/auth/me/password",
        json={"current_password": "not the password", "new_password": "whatever-new-1"},
        headers=auth.bearer(current["access_token"]),
    )
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/wrong-password"
    assert (await auth.me(other["access_token"])).status_code == 200
    assert (await auth.login(account.email, account.password)).status_code == 200


async def test_password_change_validates_the_new_password(auth: AuthApi) -> None:
    account = await auth.register()
    access = (await auth.tokens(account))["access_token"]
    response = await auth.http.post(
        "/api/v1/auth/me/password",
        json={"current_password": account.password, "new_password": "short"},
        headers=auth.bearer(access),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.new_password"]


async def test_delete_me_ends_the_account_and_all_its_tokens(auth: AuthApi) -> None:
    account = await auth.register()
    current = await auth.tokens(account)
    other = await auth.tokens(account)
    response = await auth.http.delete(
        "/api/v1/auth/me", headers=auth.bearer(current["access_token"])
    )
    assert response.status_code == 204
    for tokens in (current, other):
        assert (await auth.me(tokens["access_token"])).status_code == 401
        assert (await auth.refresh(tokens["refresh_token"])).status_code == 401
    assert (await auth.login(account.email, account.password)).status_code == 401
    # The address is free again.
    again = await auth.register(account.email)
    assert again.user["id"] != account.user["id"]
