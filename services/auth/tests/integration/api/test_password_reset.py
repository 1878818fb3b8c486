"""Forgotten passwords, against a running auth process: asking for a link, and using it.

The link's token is read where the notifier would get it, the event in auth's
outbox; the work behind a request happens after its 202, so tests wait for
its outcome on ``/metrics``, where operators see it too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from wishlist_shared.problems import MEDIA_TYPE
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.stack import Stack

if TYPE_CHECKING:
    from conftest import Account, AuthApi, StartAuth

pytestmark = pytest.mark.system

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
EVENT = "auth.password_reset_requested.v1"
NEW_PASSWORD = "a brand new password"


async def ask(auth: AuthApi, email: str) -> None:
    response = await auth.http.post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted"}


async def confirm(auth: AuthApi, token: str, new_password: str = NEW_PASSWORD) -> Any:
    return await auth.http.post(CONFIRM, json={"token": token, "new_password": new_password})


async def outcomes(auth: AuthApi) -> dict[str, int]:
    """How many reset requests auth has handled so far, by outcome."""
    text = (await auth.http.get("/metrics")).text
    found = re.findall(r'^auth_password_reset_requests_total\{outcome="(\w+)"\} (\S+)$', text, re.M)
    return {outcome: int(float(value)) for outcome, value in found}


async def handled(auth: AuthApi, **expected: int) -> None:
    async def done() -> bool:
        counts = await outcomes(auth)
        return all(counts.get(outcome, 0) >= n for outcome, n in expected.items())

    await eventually(done, message=f"reset requests never handled as {expected}")
    counts = await outcomes(auth)
    assert {k: v for k, v in counts.items() if v} == expected


async def fetch(stack: Stack, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.database.admin_url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def reset_envelopes(stack: Stack) -> list[dict[str, Any]]:
    rows = await fetch(
        stack, "SELECT body FROM auth.outbox WHERE routing_key = $1 ORDER BY id", EVENT
    )
    return [json.loads(r["body"]) for r in rows]


async def reset_events(stack: Stack) -> list[dict[str, Any]]:
    return [envelope["payload"] for envelope in await reset_envelopes(stack)]


async def reset_link(auth: AuthApi, stack: Stack, account: Account) -> dict[str, Any]:
    """Asks for a reset of ``account`` and returns the event that would mail it."""
    before = len(await reset_events(stack))
    await ask(auth, account.email)

    async def arrived() -> list[dict[str, Any]] | None:
        events = await reset_events(stack)
        return events if len(events) > before else None

    events = await eventually(arrived, message="no reset event was written")
    assert events is not None
    return events[-1]


async def test_an_unknown_address_gets_the_same_202_and_nothing_is_stored_or_sent(
    auth: AuthApi, stack: Stack
) -> None:
    known = await auth.register()
    unknown_answer = await auth.http.post(RESET, json={"email": "nobody@example.com"})
    known_answer = await auth.http.post(RESET, json={"email": known.email})

    assert unknown_answer.status_code == known_answer.status_code == 202
    assert unknown_answer.content == known_answer.content
    assert unknown_answer.headers["content-type"] == known_answer.headers["content-type"]
    await handled(auth, unknown=1, sent=1)
    rows = await fetch(stack, "SELECT user_id FROM auth.password_reset_tokens")
    assert [str(r["user_id"]) for r in rows] == [known.user["id"]]
    assert [e["email"] for e in await reset_events(stack)] == [known.email]


async def test_a_known_address_stores_only_a_hash_and_sends_the_token_once(
    auth: AuthApi, stack: Stack
) -> None:
    account = await auth.register("Rita@Example.com", display_name="Rita")
    asked_at = datetime.now(UTC)
    asked = await auth.http.post(
        RESET, json={"email": "  RITA@example.COM "}, headers={"X-Request-ID": "reset-rita"}
    )
    assert asked.status_code == 202
    await handled(auth, sent=1)

    (envelope,) = await reset_envelopes(stack)
    # Handled after the answer, yet still traced to the request.
    assert envelope["correlation_id"] == "reset-rita"
    event = envelope["payload"]
    token = event["reset_token"]
    expires_at = datetime.fromisoformat(event["expires_at"])
    assert event == {
        "user_id": account.user["id"],
        "email": "rita@example.com",
        "display_name": "Rita",
        "reset_token": token,
        "expires_at": event["expires_at"],
    }
    assert len(token) >= 43
    # Thirty minutes by default.
    assert asked_at + timedelta(minutes=29) < expires_at < datetime.now(UTC) + timedelta(minutes=31)

    (row,) = await fetch(stack, "SELECT * FROM auth.password_reset_tokens")
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in repr(dict(row)).encode()
    assert row["expires_at"] == expires_at
    assert row["spent_at"] is None


async def test_asking_needs_a_valid_address(auth: AuthApi) -> None:
    for body in ({"email": "not-an-address"}, {}, {"email": "x" * 300 + "@example.com"}):
        response = await auth.http.post(RESET, json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == MEDIA_TYPE
        assert [e["field"] for e in response.json()["errors"]] == ["body.email"]


async def test_a_reset_sets_the_password_once_and_ends_every_session(
    auth: AuthApi, stack: Stack
) -> None:
    account = await auth.register()
    first = await auth.tokens(account)
    second = await auth.tokens(account)
    token = (await reset_link(auth, stack, account))["reset_token"]

    response = await confirm(auth, token)

    assert response.status_code == 204
    for tokens in (first, second):
        # Access tokens are refused at once, not when they expire.
        assert (await auth.me(tokens["access_token"])).status_code == 401
        assert (await auth.refresh(tokens["refresh_token"])).status_code == 401
    assert (await auth.login(account.email, account.password)).status_code == 401
    assert (await auth.login(account.email, NEW_PASSWORD)).status_code == 200

    again = await confirm(auth, token, "yet another password")
    assert again.status_code == 400
    assert again.headers["content-type"] == MEDIA_TYPE
    assert again.json()["type"] == "/problems/reset-token-invalid"
    assert (await auth.login(account.email, NEW_PASSWORD)).status_code == 200
    (row,) = await fetch(stack, "SELECT spent_at FROM auth.password_reset_tokens")
    assert row["spent_at"] is not None


async def test_every_token_that_does_not_work_gets_the_same_400(
    auth: AuthApi, stack: Stack
) -> None:
    account = await auth.register()
    spent = (await reset_link(auth, stack, account))["reset_token"]
    assert (await confirm(auth, spent)).status_code == 204

    answers = [
        await confirm(auth, token)
        for token in (spent, secrets.token_urlsafe(32), "", "not a token", "é" * 1024)
    ]

    assert {a.status_code for a in answers} == {400}
    assert len({(a.json()["type"], a.json()["title"], a.json()["detail"]) for a in answers}) == 1
    too_long = await confirm(auth, "x" * 1025)
    assert too_long.status_code == 422


async def test_a_new_password_must_fit_the_rules_and_the_token_survives_a_refusal(
    auth: AuthApi, stack: Stack
) -> None:
    account = await auth.register()
    token = (await reset_link(auth, stack, account))["reset_token"]

    for password in ("short", "p" * 129):
        response = await confirm(auth, token, password)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["body.new_password"]

    assert (await confirm(auth, token, "p" * 128)).status_code == 204


async def test_an_expired_token_is_refused_and_changes_nothing(
    start_auth: StartAuth, stack: Stack
) -> None:
    auth = await start_auth(AUTH_PASSWORD_RESET_TTL_SECONDS="1")
    account = await auth.register()
    sessions = await auth.tokens(account)
    event = await reset_link(auth, stack, account)
    expires_at = datetime.fromisoformat(event["expires_at"])

    await eventually(lambda: datetime.now(UTC) > expires_at + timedelta(milliseconds=50))
    response = await confirm(auth, event["reset_token"])

    assert response.status_code == 400
    assert response.json()["type"] == "/problems/reset-token-invalid"
    assert (await auth.login(account.email, account.password)).status_code == 200
    assert (await auth.me(sessions["access_token"])).status_code == 200


async def test_a_newer_link_replaces_the_earlier_ones(auth: AuthApi, stack: Stack) -> None:
    account = await auth.register()
    earlier = (await reset_link(auth, stack, account))["reset_token"]
    later = (await reset_link(auth, stack, account))["reset_token"]

    assert (await confirm(auth, earlier)).status_code == 400
    assert (await confirm(auth, later)).status_code == 204


async def test_concurrent_confirmations_with_one_token_succeed_exactly_once(
    auth: AuthApi, stack: Stack
) -> None:
    account = await auth.register()
    token = (await reset_link(auth, stack, account))["reset_token"]
    passwords = [f"contender password {n}" for n in range(4)]

    answers = await asyncio.gather(*(confirm(auth, token, p) for p in passwords))

    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [204, 400, 400, 400]
    winner = passwords[statuses.index(204)]
    logins = [(await auth.login(account.email, p)).status_code for p in passwords]
    assert logins == [200 if p == winner else 401 for p in passwords]


async def test_requests_per_address_are_throttled_yet_always_answer_202(
    start_auth: StartAuth, stack: Stack
) -> None:
    auth = await start_auth(AUTH_PASSWORD_RESET_REQUESTS_PER_EMAIL="2")
    flooded = await auth.register()
    other = await auth.register()

    for _ in range(4):
        await ask(auth, flooded.email)
    await ask(auth, other.email)

    await handled(auth, sent=3, throttled=2)
    assert sorted(e["email"] for e in await reset_events(stack)) == sorted(
        [flooded.email, flooded.email, other.email]
    )


async def test_a_reset_lifts_the_lockout_of_failed_logins(
    start_auth: StartAuth, stack: Stack
) -> None:
    auth = await start_auth(AUTH_LOGIN_FAILURES_PER_ACCOUNT="2")
    account = await auth.register()
    for _ in range(2):
        assert (await auth.login(account.email, "wrong password")).status_code == 401
    assert (await auth.login(account.email, account.password)).status_code == 429

    token = (await reset_link(auth, stack, account))["reset_token"]
    assert (await confirm(auth, token)).status_code == 204

    assert (await auth.login(account.email, NEW_PASSWORD)).status_code == 200


async def test_deleting_the_account_deletes_its_reset_tokens(auth: AuthApi, stack: Stack) -> None:
    account = await auth.register()
    token = (await reset_link(auth, stack, account))["reset_token"]
    access = (await auth.tokens(account))["access_token"]

    assert (
        await auth.http.delete("/api/v1/auth/me", headers=auth.bearer(access))
    ).status_code == 204

    assert await fetch(stack, "SELECT 1 FROM auth.password_reset_tokens") == []
    assert (await confirm(auth, token)).status_code == 400
