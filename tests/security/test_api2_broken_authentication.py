"""API2:2023 Broken authentication.

What an attacker without the signing key can try: forged tokens (unsigned,
HMAC keyed with the public key, another key under the real key id, a swapped
subject), guessing passwords, replaying a spent refresh token, keeping a token
or a socket after logout, replaying a WebSocket ticket. Every forgery is
refused by the gateway and again by each service on its own port.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from conftest import Person, Platform

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
PASSWORD = "correct horse battery"
# A protected route of each process, asked directly: defence in depth.
PROTECTED = {
    "gateway": f"{API}/wishlists",
    "wishlists": f"{API}/wishlists",
    "notifier": f"{API}/notifications/unread-count",
    "auth": f"{API}/auth/me",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{_b64json(header)}.{_b64json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _forgeries(real_token: str, jwks: dict[str, Any], victim: str) -> dict[str, str]:
    """What can be made from a real token, the public JWKS and a victim's id."""
    header = jwt.get_unverified_header(real_token)
    real = jwt.decode(real_token, options={"verify_signature": False})
    now = int(time.time())
    claims = {**real, "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    as_victim = claims | {"sub": victim}
    kid = header["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    mine = Ed25519PrivateKey.generate()
    head, _, signature = real_token.split(".")
    return {
        "alg none": f"{_b64json({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64json(as_victim)}.",
        "alg none, no dot": f"{_b64json({'alg': 'none'})}.{_b64json(as_victim)}",
        "HS256 keyed with the public key": _hs256(
            base64.urlsafe_b64decode(jwk["x"] + "=="),
            {"alg": "HS256", "typ": "JWT", "kid": kid},
            as_victim,
        ),
        "HS256 keyed with the JWK": _hs256(
            json.dumps(jwk).encode(), {"alg": "HS256", "typ": "JWT", "kid": kid}, as_victim
        ),
        "own key under the real kid": jwt.encode(
            as_victim, mine, algorithm="EdDSA", headers={"kid": kid}
        ),
        "own key, own kid": jwt.encode(
            as_victim, mine, algorithm="EdDSA", headers={"kid": "attacker"}
        ),
        "subject swapped, signature kept": f"{head}.{_b64json(as_victim)}.{signature}",
        "signature stripped": f"{head}.{_b64json(claims)}.",
        "garbage": "not.a.token",
    }


async def test_forged_tokens_are_refused_by_the_gateway_and_by_every_service(
    platform: Platform,
) -> None:
    attacker, victim = await platform.person("Mallory"), await platform.person("Vic")
    jwks = (await platform.call(None, "GET", "/auth/jwks.json")).json()
    forged = _forgeries(attacker.access_token, jwks, victim.id)

    for process, path in PROTECTED.items():
        url = platform.stack.url(process) + path
        honest = await platform.http.get(url, headers=attacker.headers)
        assert honest.status_code == 200, (process, honest.text)
        for name, token in forged.items():
            response = await platform.http.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (process, name, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")

    for name, token in forged.items():
        async with platform.socket({"Authorization": f"Bearer {token}"}) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401, name


async def test_guessing_a_password_is_throttled_per_account_even_with_the_right_one_after(
    platform: Platform,
) -> None:
    victim = await platform.person("Vic")
    guess = {"email": victim.email, "password": "wrong password"}
    unknown = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "whatever1"}
    # Each guess from an address of its own: only the account's count adds up.
    wrong = await platform.call(None, "POST", "/auth/login", guess, headers=_from_anywhere())
    nobody = await platform.call(None, "POST", "/auth/login", unknown, headers=_from_anywhere())
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()
    for _ in range(4):
        again = await platform.call(None, "POST", "/auth/login", guess, headers=_from_anywhere())
        assert again.status_code == 401
    right = {"email": victim.email, "password": PASSWORD}
    locked = await platform.call(None, "POST", "/auth/login", right, headers=_from_anywhere())
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) > 0


async def test_guessing_from_one_address_is_throttled_across_accounts(
    platform: Platform,
) -> None:
    address = _from_anywhere()
    statuses = []
    for _ in range(40):
        body = {"email": f"spray-{uuid.uuid4().hex[:8]}@example.com", "password": "Winter2026!"}
        response = await platform.call(None, "POST", "/auth/login", body, headers=address)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}
    # Another address is not punished for it.
    elsewhere = await platform.call(
        None,
        "POST",
        "/auth/login",
        {"email": "x@example.com", "password": "whatever1"},
        headers=_from_anywhere(),
    )
    assert elsewhere.status_code == 401


async def test_a_reused_refresh_token_ends_the_whole_session_everywhere(
    platform: Platform,
) -> None:
    person = await platform.person("Rita")
    first = await _refresh(platform, person, person.refresh_token)
    assert first.status_code == 200
    newest = first.json()
    # The spent token, presented again (stolen and replayed): the family dies.
    replay = await _refresh(platform, person, person.refresh_token)
    assert replay.status_code == 401
    assert (await _refresh(platform, person, newest["refresh_token"])).status_code == 401
    bearer = {"Authorization": f"Bearer {newest['access_token']}"}
    for process, path in PROTECTED.items():
        response = await platform.http.get(platform.stack.url(process) + path, headers=bearer)
        assert response.status_code == 401, (process, response.text)


async def test_logout_ends_the_access_token_and_closes_its_sockets(platform: Platform) -> None:
    person = await platform.person("Lou")
    async with platform.socket(person.headers) as ws:
        out = await platform.call(
            person, "POST", "/auth/logout", {"refresh_token": person.refresh_token}
        )
        assert out.status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    for process, path in PROTECTED.items():
        response = await platform.http.get(
            platform.stack.url(process) + path, headers=person.headers
        )
        assert response.status_code == 401, (process, response.text)


async def test_a_websocket_ticket_opens_one_socket_once(platform: Platform) -> None:
    person = await platform.person("Tia")
    ticket = (await platform.ok(person, "POST", "/realtime/ticket"))["ticket"]
    async with platform.socket(ticket=ticket) as ws:
        assert ws.close_code is None
        async with platform.socket(ticket=ticket) as replayed:
            with pytest.raises(ConnectionClosed) as closed:
                await replayed.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def _from_anywhere() -> dict[str, str]:
    octets = uuid.uuid4().bytes
    return {"X-Forwarded-For": f"10.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}"}


async def _refresh(platform: Platform, person: Person, token: str) -> Any:
    return await platform.call(
        None,
        "POST",
        "/auth/refresh",
        {"refresh_token": token},
        headers={"X-Forwarded-For": person.address},
    )
