"""Auth checks the access tokens it receives itself: forged ones are refused at its door.

Every token goes to ``GET /me``. The honest token, signed exactly as auth
signs, passes; each forgery differs from it in one way and is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import AuthApi, MakeForgeries

pytestmark = pytest.mark.system


async def test_a_token_signed_like_auth_signs_passes(
    auth: AuthApi, make_forgeries: MakeForgeries
) -> None:
    tokens = await make_forgeries(auth)
    assert (await auth.me(tokens.honest)).status_code == 200


async def test_a_real_signature_does_not_save_bad_claims(
    auth: AuthApi, make_forgeries: MakeForgeries
) -> None:
    forged = (await make_forgeries(auth)).named("claims:")
    assert len(forged) == 7
    for name, token in forged.items():
        assert (await auth.me(token)).status_code == 401, name


async def test_unsigned_and_hmac_signed_tokens_are_refused(
    auth: AuthApi, make_forgeries: MakeForgeries
) -> None:
    forged = (await make_forgeries(auth)).named("alg:")
    assert len(forged) == 3
    for name, token in forged.items():
        assert (await auth.me(token)).status_code == 401, name


async def test_tokens_of_unknown_or_foreign_keys_are_refused(
    auth: AuthApi, make_forgeries: MakeForgeries
) -> None:
    forged = (await make_forgeries(auth)).named("key:")
    assert len(forged) == 5
    for name, token in forged.items():
        assert (await auth.me(token)).status_code == 401, name


async def test_tampered_and_malformed_tokens_are_refused(
    auth: AuthApi, make_forgeries: MakeForgeries
) -> None:
    tokens = await make_forgeries(auth)
    forged = tokens.named("tampered:") | tokens.named("malformed:")
    assert len(forged) == 3
    for name, token in forged.items():
        response = await auth.me(token)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer"
