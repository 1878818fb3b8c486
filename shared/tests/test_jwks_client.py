"""Auth's JWKS, fetched by the gateway and the services: what they do while auth is away.

A key already known keeps verifying tokens through an outage of auth. A key
not known yet cannot be learnt then: that is auth's outage, told as
:class:`SigningKeysUnreachable` (a 503 to retry), never as a bad token (a 401
would send a person with a good token back to the login page). Once auth
answers again, the next request after a short wait learns the key.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from wishlist_shared.jwt import JWKSClient, SigningKeysUnreachable
from wishlist_shared.outages import dependency_unavailable

URL = "http://auth.test/api/v1/auth/jwks.json"


def jwk(kid: str) -> dict[str, str]:
    public = OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key(), as_dict=True)
    assert isinstance(public, dict)
    return {**public, "kid": kid, "alg": "EdDSA", "use": "sig"}


class Auth:
    """Auth's JWKS endpoint, up or down."""

    def __init__(self) -> None:
        self.keys: list[dict[str, str]] = []
        self.up = True
        self.fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if not self.up:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        return httpx.Response(200, content=json.dumps({"keys": self.keys}))


@pytest.fixture
def auth() -> Auth:
    return Auth()


def client(auth: Auth, **timing: float) -> JWKSClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(auth.handle))
    return JWKSClient(URL, http, **timing)


async def test_a_known_key_keeps_working_while_auth_is_away(auth: Auth) -> None:
    auth.keys = [jwk("k1")]
    jwks = client(auth, max_age=0.0)
    assert await jwks.key("k1") is not None
    auth.up = False
    assert await jwks.key("k1") is not None


async def test_a_new_key_while_auth_is_away_is_an_outage_not_a_bad_token(auth: Auth) -> None:
    auth.keys = [jwk("k1")]
    jwks = client(auth, min_refetch_interval=0.05, retry_interval=0.05)
    assert await jwks.key("k1") is not None
    auth.up = False
    auth.keys.append(jwk("k2"))
    await asyncio.sleep(0.06)

    with pytest.raises(SigningKeysUnreachable) as unreachable:
        await jwks.key("k2")
    # Counted as a dependency outage: services answer 503 with Retry-After.
    assert dependency_unavailable(unreachable.value)

    auth.up = True
    await asyncio.sleep(0.06)
    assert await jwks.key("k2") is not None


async def test_a_made_up_key_is_unknown_and_refetches_stay_spaced(auth: Auth) -> None:
    auth.keys = [jwk("k1")]
    jwks = client(auth, min_refetch_interval=60.0)
    assert await jwks.key("made-up") is None
    assert await jwks.key("made-up-too") is None
    assert auth.fetches == 1


async def test_while_auth_is_away_retries_are_spaced_too(auth: Auth) -> None:
    auth.up = False
    jwks = client(auth, retry_interval=60.0)
    for kid in ("a", "b", "c"):
        with pytest.raises(SigningKeysUnreachable):
            await jwks.key(kid)
    assert auth.fetches == 1
