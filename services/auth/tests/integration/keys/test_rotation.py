"""Key rotation with ``python -m auth.keys rotate`` against a running service."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

import asyncpg
import jwt
import pytest

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Stack

if TYPE_CHECKING:
    from conftest import AuthApi, StartAuth

pytestmark = pytest.mark.system


async def keys_cli(stack: Stack, command: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "auth.keys",
        command,
        env={**os.environ, "AUTH_DATABASE_URL": stack.database.urls["auth"]},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    return out.decode()


async def published_kids(auth: AuthApi) -> set[str]:
    return {k["kid"] for k in (await auth.http.get("/api/v1/auth/jwks.json")).json()["keys"]}


async def test_rotation_signs_new_tokens_with_the_new_key_and_still_honours_old_ones(
    start_auth: StartAuth, stack: Stack
) -> None:
    auth = await start_auth()
    account = await auth.register()
    before = await auth.tokens(account)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]

    output = await keys_cli(stack, "rotate")
    new_kid = next(
        line.split(": ")[1] for line in output.splitlines() if line.startswith("active key")
    )
    assert new_kid != old_kid
    assert f"retired key: {old_kid}" in output

    after = await auth.tokens(account)
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
    refreshed = (await auth.refresh(before["refresh_token"])).json()
    assert jwt.get_unverified_header(refreshed["access_token"])["kid"] == new_kid
    # Tokens of the retired key still work while they can still be unexpired.
    assert (await auth.me(before["access_token"])).status_code == 200
    assert (await auth.me(after["access_token"])).status_code == 200
    assert await published_kids(auth) == {old_kid, new_kid}
    listing = await keys_cli(stack, "list")
    assert f"{new_kid}  created" in listing
    assert "active" in listing
    assert "retired, verifies until" in listing


async def test_a_retired_key_drops_out_once_its_last_tokens_expired(
    start_auth: StartAuth, stack: Stack
) -> None:
    auth = await start_auth(AUTH_KEY_CACHE_SECONDS="0.2")
    account = await auth.register()
    old = await auth.tokens(account)
    old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
    await keys_cli(stack, "rotate")
    new = await auth.tokens(account)

    # Let time pass: the old key retired longer ago than a token lives (15
    # minutes) plus the margin (1 minute).
    conn = await asyncpg.connect(stack.database.admin_url)
    try:
        await conn.execute(
            "UPDATE auth.signing_keys SET retired_at = now() - interval '17 minutes' "
            "WHERE kid = $1",
            old_kid,
        )
    finally:
        await conn.close()

    assert old_kid not in await published_kids(auth)

    async def old_token_refused() -> bool:
        return (await auth.me(old["access_token"])).status_code == 401

    await eventually(old_token_refused, timeout=5, message="old key still verifies")
    assert (await auth.me(new["access_token"])).status_code == 200
