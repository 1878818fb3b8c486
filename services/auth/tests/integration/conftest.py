"""Fixtures of auth's integration tests: a running auth process and a client that speaks its API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import create_async_engine

from auth.db import keys as key_rows
from auth.keys.material import KeyCipher
from auth.settings import Settings
from wishlist_shared.db import engine as db
from wishlist_shared.testing.stack import Stack

PREFIX = "/api/v1/auth"
PASSWORD = "correct horse battery"


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@dataclass
class Account:
    email: str
    password: str
    user: dict[str, Any]


@dataclass
class AuthApi:
    """Auth's routes as a test calls them: plain HTTP, answers returned as they came."""

    http: httpx.AsyncClient
    prefix: str = PREFIX
    bearer = staticmethod(bearer)

    async def register(
        self, email: str | None = None, password: str = PASSWORD, display_name: str = "Alice"
    ) -> Account:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        response = await self.http.post(
            f"{self.prefix}/register",
            json={"email": email, "password": password, "display_name": display_name},
        )
        assert response.status_code == 201, response.text
        return Account(email=email, password=password, user=response.json())

    async def login(self, email: str, password: str, **headers: str) -> httpx.Response:
        return await self.http.post(
            f"{self.prefix}/login", json={"email": email, "password": password}, headers=headers
        )

    async def tokens(self, account: Account) -> dict[str, Any]:
        """A fresh session of ``account``: its tokens."""
        response = await self.login(account.email, account.password)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.http.post(f"{self.prefix}/refresh", json={"refresh_token": refresh_token})

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get(f"{self.prefix}/me", headers=bearer(access_token))


StartAuth = Callable[..., Awaitable[AuthApi]]


@pytest.fixture
async def start_auth(stack: Stack) -> AsyncIterator[StartAuth]:
    """``await start_auth(AUTH_SOME_SETTING="x")``: auth running as its own process."""
    clients: list[httpx.AsyncClient] = []

    async def start(**overrides: str) -> AuthApi:
        await stack.start("auth", **overrides)
        client = httpx.AsyncClient(base_url=stack.url("auth"), timeout=10)
        clients.append(client)
        return AuthApi(client)

    yield start
    for client in clients:
        await client.aclose()


@pytest.fixture
async def auth(start_auth: StartAuth) -> AuthApi:
    """Auth with its default settings."""
    return await start_auth()


@dataclass
class ActiveKey:
    kid: str
    private_key: Ed25519PrivateKey


async def read_active_key(database_url: str) -> ActiveKey:
    """Auth's active signing key, read from its database as only auth itself can."""
    engine = create_async_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            kid = await key_rows.active_kid(session)
            assert kid is not None
            pem = await key_rows.encrypted_private_key(session, kid)
            assert pem is not None
    finally:
        await engine.dispose()
    return ActiveKey(kid, KeyCipher(Settings().secret_key).decrypt(pem))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{_b64json(header)}.{_b64json(claims)}"
    return (
        f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
    )


@dataclass
class Forgeries:
    """Tokens for one real session: an honest one signed like auth does, and forgeries.

    ``honest`` passing is what makes each refusal meaningful: every forgery
    differs from it in the one way its name says.
    """

    honest: str
    forged: dict[str, str]

    def named(self, prefix: str) -> dict[str, str]:
        return {name: token for name, token in self.forged.items() if name.startswith(prefix)}


def forge(access_token: str, key: ActiveKey, jwks: dict[str, Any], other_user: str) -> Forgeries:
    real = jwt.decode(access_token, options={"verify_signature": False})
    now = int(time.time())

    def claims(**changes: Any) -> dict[str, Any]:
        fresh = {**real, "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex}
        fresh.update(changes)
        return {k: v for k, v in fresh.items() if v is not None}

    def signed(
        payload: dict[str, Any],
        private_key: Ed25519PrivateKey = key.private_key,
        kid: str | None = key.kid,
    ) -> str:
        headers = {"kid": kid} if kid is not None else None
        return jwt.encode(payload, private_key, algorithm="EdDSA", headers=headers)

    stranger = Ed25519PrivateKey.generate()
    jwk = next(k for k in jwks["keys"] if k["kid"] == key.kid)
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    honest = signed(claims())
    header, _, signature = honest.split(".")
    swapped = _b64json(claims() | {"sub": other_user})
    forged = {
        "claims: expired": signed(claims(iat=now - 3600, nbf=now - 3600, exp=now - 60)),
        "claims: not yet valid": signed(claims(nbf=now + 600)),
        "claims: wrong issuer": signed(claims(iss="someone-else")),
        "claims: wrong audience": signed(claims(aud="another-platform")),
        "claims: no expiry": signed(claims(exp=None)),
        "claims: no token id": signed(claims(jti=None)),
        "claims: no subject": signed(claims(sub=None)),
        "alg: none": f"{_b64json({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}."
        f"{_b64json(claims())}.",
        # The classic confusion: a verifier that let the token choose HMAC
        # would take the public key as the shared secret.
        "alg: HS256 keyed with the raw public key": _hs256(
            base64.urlsafe_b64decode(jwk["x"] + "=="), hs_header, claims()
        ),
        "alg: HS256 keyed with the JWK": _hs256(json.dumps(jwk).encode(), hs_header, claims()),
        "key: another key under the real kid": signed(claims(), stranger),
        "key: unknown kid": signed(claims(), stranger, kid="unknown-key"),
        "key: empty kid": signed(claims(), stranger, kid=""),
        "key: overlong kid": signed(claims(), stranger, kid="x" * 500),
        "key: no kid": signed(claims(), kid=None),
        "tampered: subject swapped": f"{header}.{swapped}.{signature}",
        "tampered: signature cut": f"{header}.{_b64json(claims())}.",
        "malformed: not a JWT": "not-a-jwt",
    }
    return Forgeries(honest=honest, forged=forged)


MakeForgeries = Callable[["AuthApi"], Awaitable[Forgeries]]


@pytest.fixture
def make_forgeries(stack: Stack) -> MakeForgeries:
    """``await make_forgeries(api)``: a fresh account's honest token and forgeries of it.

    ``api`` may point at auth or at the gateway: the paths are the same.
    """

    async def make(api: AuthApi) -> Forgeries:
        account = await api.register()
        other = await api.register()
        access = (await api.tokens(account))["access_token"]
        key = await read_active_key(stack.database.urls["auth"])
        jwks = (await api.http.get(f"{api.prefix}/jwks.json")).json()
        return forge(access, key, jwks, other_user=other.user["id"])

    return make
