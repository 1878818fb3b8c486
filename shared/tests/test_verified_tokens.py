"""A verifier with a cache checks each token's signature once, and never longer than it may."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm

from wishlist_shared.jwt import LEEWAY_SECONDS, InvalidToken, TokenVerifier, VerifiedTokens

ISSUER = "wishlist-auth"
AUDIENCE = "wishlist"


class Keys:
    """A key source whose keys the test adds and takes away, as a JWKS refetch would."""

    def __init__(self) -> None:
        self.keys: dict[str, PyJWK] = {}

    async def key(self, kid: str) -> PyJWK | None:
        return self.keys.get(kid)


class Signer:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.private = Ed25519PrivateKey.generate()

    def public(self) -> PyJWK:
        jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        assert isinstance(jwk, dict)
        return PyJWK({**jwk, "kid": self.kid, "alg": "EdDSA"})

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
            **overrides,
        }
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature was checked, in order."""
    seen: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def _verifier(keys: Keys, cache: VerifiedTokens | None) -> TokenVerifier:
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, cache=cache)


async def test_a_token_is_verified_once_then_served_from_the_cache(decodes: list[str]) -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    verifier = _verifier(keys, VerifiedTokens())
    token, other = signer.token(), signer.token()

    claims = [await verifier.verify(token) for _ in range(5)]
    await verifier.verify(other)

    assert decodes == [token, other]
    assert len({c.token_id for c in claims}) == 1


async def test_without_a_cache_every_call_verifies(decodes: list[str]) -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    verifier = _verifier(keys, None)
    token = signer.token()

    for _ in range(3):
        await verifier.verify(token)

    assert decodes == [token] * 3


async def test_a_cached_token_is_refused_once_its_key_leaves_the_key_source() -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    verifier = _verifier(keys, VerifiedTokens())
    token = signer.token()
    await verifier.verify(token)

    del keys.keys[signer.kid]

    with pytest.raises(InvalidToken, match="unknown key id"):
        await verifier.verify(token)


async def test_a_cached_token_is_verified_again_against_a_replaced_key(
    decodes: list[str],
) -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    verifier = _verifier(keys, VerifiedTokens())
    token = signer.token()
    await verifier.verify(token)

    # The same kid now names another key: the token's signature no longer holds.
    impostor = Signer()
    impostor.kid = signer.kid
    keys.keys[signer.kid] = impostor.public()

    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    assert decodes == [token, token]


async def test_refused_tokens_are_not_kept(decodes: list[str]) -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    cache = VerifiedTokens()
    verifier = _verifier(keys, cache)
    expired = signer.token(exp=int(time.time()) - LEEWAY_SECONDS - 1)

    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(expired)

    assert len(cache) == 0
    assert decodes == [expired, expired]


async def test_an_entry_lasts_until_the_token_expires_leeway_included() -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    cache = VerifiedTokens()
    verifier = _verifier(keys, cache)
    exp = int(time.time()) + 60
    token = signer.token(exp=exp)
    await verifier.verify(token)

    assert cache.get(token, exp + LEEWAY_SECONDS - 0.001) is not None
    # PyJWT refuses the token from exp + leeway on: so does the cache, and forgets it.
    assert cache.get(token, exp + LEEWAY_SECONDS) is None
    assert len(cache) == 0


async def test_the_cache_keeps_the_most_recently_used_tokens_up_to_its_size(
    decodes: list[str],
) -> None:
    signer, keys = Signer(), Keys()
    keys.keys[signer.kid] = signer.public()
    cache = VerifiedTokens(max_entries=2)
    verifier = _verifier(keys, cache)
    first, second, third = signer.token(), signer.token(), signer.token()

    await verifier.verify(first)
    await verifier.verify(second)
    await verifier.verify(first)  # first is now the most recent
    await verifier.verify(third)  # evicts second
    decodes.clear()
    await verifier.verify(first)
    await verifier.verify(third)
    await verifier.verify(second)

    assert len(cache) == 2
    assert decodes == [second]
