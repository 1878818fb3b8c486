"""Auth's part of a data export: the caller's account, and only to the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import AuthApi

pytestmark = pytest.mark.system

EXPORT = "/api/v1/me/export"


async def test_the_export_holds_the_callers_account_as_me_shows_it(auth: AuthApi) -> None:
    alice = await auth.register(display_name="Alice")
    await auth.register(display_name="Bob")
    token = (await auth.tokens(alice))["access_token"]

    response = await auth.http.get(EXPORT, headers=auth.bearer(token))

    assert response.status_code == 200, response.text
    assert response.json() == {"account": (await auth.me(token)).json()}
    assert response.json()["account"] == {
        "id": alice.user["id"],
        "email": alice.email,
        "display_name": "Alice",
        "created_at": alice.user["created_at"],
    }


async def test_the_export_needs_a_valid_token(auth: AuthApi) -> None:
    assert (await auth.http.get(EXPORT)).status_code == 401
    forged = await auth.http.get(EXPORT, headers=auth.bearer("not-a-token"))
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"


async def test_a_deleted_account_exports_nothing(auth: AuthApi) -> None:
    alice = await auth.register()
    token = (await auth.tokens(alice))["access_token"]
    assert (
        await auth.http.delete("/api/v1/auth/me", headers=auth.bearer(token))
    ).status_code == 204

    response = await auth.http.get(EXPORT, headers=auth.bearer(token))

    assert response.status_code == 401
    assert alice.email not in response.text
