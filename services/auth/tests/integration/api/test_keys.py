"""``GET /jwks.json``: the public keys, and that they verify the tokens auth issues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt
import pytest
from jwt import PyJWKSet

if TYPE_CHECKING:
    from conftest import AuthApi

pytestmark = pytest.mark.system


async def test_jwks_lists_the_public_signing_key(auth: AuthApi) -> None:
    response = await auth.http.get("/api/v1/auth/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    (key,) = keys
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert (key["alg"], key["use"]) == ("EdDSA", "sig")
    assert key["kid"]
    assert "d" not in key  # never the private part


async def test_the_access_token_verifies_with_the_jwks_key_it_names(auth: AuthApi) -> None:
    account = await auth.register()
    access = (await auth.tokens(account))["access_token"]
    jwks = PyJWKSet.from_dict((await auth.http.get("/api/v1/auth/jwks.json")).json())
    key = jwks[jwt.get_unverified_header(access)["kid"]]
    claims = jwt.decode(
        access, key.key, algorithms=["EdDSA"], audience="wishlist", issuer="wishlist-auth"
    )
    assert claims["sub"] == account.user["id"]
