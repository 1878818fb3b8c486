"""Who gets through the gateway: tokens, the revocation list, rate limits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from gateway_harness import (
    RunningGateway,
    Services,
    SigningKey,
    StartGateway,
    bearer,
    gateway_settings,
)
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from gateway.api.access import RateLimits
from wishlist_shared.revocation import RevocationList
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.faults import TcpProxy
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace

PROBLEM = "application/problem+json"

PUBLIC = [
    ("POST", "/api/v1/auth/register", "auth"),
    ("POST", "/api/v1/auth/login", "auth"),
    ("POST", "/api/v1/auth/refresh", "auth"),
    ("POST", "/api/v1/auth/password-reset", "auth"),
    ("POST", "/api/v1/auth/password-reset/confirm", "auth"),
    ("GET", "/api/v1/shared/Zm9vYmFy-token", "wishlists"),
]

NOT_PUBLIC = [
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/me/password"),
    ("GET", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/login/"),
    ("POST", "/api/v1/auth/jwks.json"),
    ("POST", "/api/v1/shared/some-token/join"),
    ("POST", "/api/v1/shared/some-token"),
    ("DELETE", "/api/v1/shared/some-token"),
    ("GET", "/api/v1/shared/some-token/items"),
    ("GET", "/api/v1/wishlists"),
    ("GET", "/api/v1/reservations"),
    ("GET", "/api/v1/notifications/unread-count"),
]


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 401
    assert problem["type"] == "/problems/unauthorized"


@pytest.mark.parametrize("route", PUBLIC)
async def test_public_routes_need_no_token(
    gateway: RunningGateway, services: Services, route: tuple[str, str, str]
) -> None:
    method, path, service = route

    response = await gateway.client.request(method, path, json={})

    assert response.status_code == 200
    assert [s.path for s in services[service].seen] == [path]
    assert services[service].seen[0].header("authorization") is None


async def test_jwks_is_public(gateway: RunningGateway, services: Services) -> None:
    response = await gateway.client.get("/api/v1/auth/jwks.json")

    assert response.status_code == 200
    assert response.json() == services.auth.jwks


@pytest.mark.parametrize("route", NOT_PUBLIC)
async def test_every_other_route_needs_a_token(
    gateway: RunningGateway, services: Services, route: tuple[str, str]
) -> None:
    method, path = route
    fetches_before = services.auth.jwks_fetches

    response = await gateway.client.request(method, path)

    assert_unauthorized(response)
    assert not services.auth.seen
    assert not services.wishlists.seen
    assert not services.notifier.seen
    assert services.auth.jwks_fetches == fetches_before


async def test_a_valid_token_reaches_the_service_with_its_authorization_header(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    token = signing_key.token()

    response = await gateway.client.get("/api/v1/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert services.auth.seen[0].all("authorization") == [f"Bearer {token}"]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda key: key.unsigned_token(), id="alg-none"),
        pytest.param(lambda key: key.hs256_with_public_key(), id="hs256-keyed-with-public-key"),
        pytest.param(lambda key: SigningKey().token(), id="unknown-kid"),
        pytest.param(lambda key: SigningKey(kid=key.kid).token(), id="known-kid-other-key"),
        pytest.param(lambda key: key.tampered_token(), id="tampered-payload"),
        pytest.param(lambda key: key.token(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda key: key.token(nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(lambda key: key.token(iss="someone-else"), id="wrong-issuer"),
        pytest.param(lambda key: key.token(aud="another-api"), id="wrong-audience"),
        pytest.param(lambda key: key.token(exp=None), id="no-expiry"),
        pytest.param(lambda key: key.token(sub="not-a-uuid"), id="malformed-subject"),
        pytest.param(lambda key: "not.a.jwt", id="garbage"),
    ],
)
async def test_bad_tokens_are_refused_before_any_service(
    gateway: RunningGateway,
    services: Services,
    signing_key: SigningKey,
    make_token: Callable[[SigningKey], str],
) -> None:
    token = make_token(signing_key)

    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(token))

    assert_unauthorized(response)
    assert not services.wishlists.seen


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearerabc", "Token abc"]
)
async def test_authorization_that_is_not_a_bearer_token_is_refused(
    gateway: RunningGateway, signing_key: SigningKey, authorization: str
) -> None:
    response = await gateway.client.get(
        "/api/v1/wishlists", headers={"Authorization": authorization}
    )

    assert_unauthorized(response)


async def test_bearer_scheme_is_case_insensitive(
    gateway: RunningGateway, signing_key: SigningKey
) -> None:
    response = await gateway.client.get(
        "/api/v1/wishlists", headers={"Authorization": f"bearer {signing_key.token()}"}
    )

    assert response.status_code == 200


async def test_a_new_signing_key_is_picked_up_from_the_jwks(
    start_gateway: StartGateway, services: Services, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(jwks_min_refetch_seconds=0)
    rotated = SigningKey()
    assert (
        await gateway.client.get("/api/v1/wishlists", headers=bearer(signing_key.token()))
    ).status_code == 200
    refused = await gateway.client.get("/api/v1/wishlists", headers=bearer(rotated.token()))
    assert refused.status_code == 401

    assert services.auth.jwks is not None
    services.auth.jwks = {"keys": [*services.auth.jwks["keys"], rotated.jwk()]}

    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(rotated.token()))
    assert response.status_code == 200
    # The old key keeps working beside the new one.
    old = await gateway.client.get("/api/v1/wishlists", headers=bearer(signing_key.token()))
    assert old.status_code == 200


async def test_made_up_key_ids_do_not_flood_auth_with_jwks_fetches(
    gateway: RunningGateway, services: Services, signing_key: SigningKey
) -> None:
    await gateway.client.get("/api/v1/wishlists", headers=bearer(signing_key.token()))
    fetches = services.auth.jwks_fetches

    for _ in range(20):
        response = await gateway.client.get(
            "/api/v1/wishlists", headers=bearer(SigningKey().token())
        )
        assert response.status_code == 401

    # The default spacing between refetches is 5 s: the 20 tokens fit in one.
    assert services.auth.jwks_fetches - fetches <= 1


async def test_a_revoked_token_is_refused(
    gateway: RunningGateway, signing_key: SigningKey, redis: Redis, namespace: Namespace
) -> None:
    jti = uuid.uuid4().hex
    token = signing_key.token(jti=jti)
    other = signing_key.token()
    assert (await gateway.client.get("/api/v1/wishlists", headers=bearer(token))).status_code == 200

    await RevocationList(redis, namespace.redis_prefix).revoke_token(jti, 60)

    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(token))
    assert_unauthorized(response)
    assert (await gateway.client.get("/api/v1/wishlists", headers=bearer(other))).status_code == 200


async def test_a_token_verified_earlier_is_refused_once_revoked(
    gateway: RunningGateway,
    signing_key: SigningKey,
    redis: Redis,
    namespace: Namespace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        decodes.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    session = uuid.uuid4()
    token = signing_key.token(sid=str(session))
    for _ in range(3):
        response = await gateway.client.get("/api/v1/wishlists", headers=bearer(token))
        assert response.status_code == 200

    await RevocationList(redis, namespace.redis_prefix).revoke_sessions([session], 60)

    assert_unauthorized(await gateway.client.get("/api/v1/wishlists", headers=bearer(token)))
    # The signature was checked once; the revocation list on every request.
    assert decodes == [token]


async def test_an_authenticated_request_costs_one_redis_round_trip(
    gateway: RunningGateway, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = bearer(signing_key.token())
    # The first request loads the script into Redis (once per Redis process).
    assert (await gateway.client.get("/api/v1/wishlists", headers=token)).status_code == 200
    sent: list[bytes] = []
    send = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, command: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(bytes(command) if isinstance(command, bytes | str) else b"".join(command))
        await send(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    for _ in range(5):
        assert (await gateway.client.get("/api/v1/wishlists", headers=token)).status_code == 200
    monkeypatch.undo()

    # The real-time hub's heartbeat may PING on its own connection meanwhile.
    round_trips = [c for c in sent if b"PING" not in c.upper()]
    assert len(round_trips) == 5, round_trips


async def test_every_token_of_a_revoked_session_is_refused(
    gateway: RunningGateway, signing_key: SigningKey, redis: Redis, namespace: Namespace
) -> None:
    session = uuid.uuid4()
    first = signing_key.token(sid=str(session))
    second = signing_key.token(sid=str(session))
    other_session = signing_key.token()

    await RevocationList(redis, namespace.redis_prefix).revoke_sessions([session], 60)

    for token in (first, second):
        response = await gateway.client.get("/api/v1/wishlists", headers=bearer(token))
        assert_unauthorized(response)
    response = await gateway.client.get("/api/v1/wishlists", headers=bearer(other_session))
    assert response.status_code == 200


async def test_a_client_over_its_rate_limit_gets_429_with_retry_after(
    start_gateway: StartGateway, services: Services
) -> None:
    gateway = await start_gateway(rate_limit_requests=3, rate_limit_window_seconds=60)

    statuses = [
        (await gateway.client.get("/api/v1/shared/some-token")).status_code for _ in range(3)
    ]
    response = await gateway.client.get("/api/v1/shared/some-token")

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.headers["content-type"] == PROBLEM
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["type"] == "/problems/rate-limited"
    assert len(services.wishlists.seen) == 3


async def test_requests_with_bad_tokens_spend_the_address_budget(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(rate_limit_requests=2)

    first = await gateway.client.get("/api/v1/wishlists", headers=bearer("forged"))
    second = await gateway.client.get("/api/v1/wishlists")
    third = await gateway.client.get("/api/v1/shared/x")

    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 429]


async def test_each_user_has_a_budget_of_their_own(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    gateway = await start_gateway(rate_limit_requests=2)
    alice = bearer(signing_key.token(sub=str(uuid.uuid4())))
    bob = bearer(signing_key.token(sub=str(uuid.uuid4())))

    alice_statuses = [
        (await gateway.client.get("/api/v1/wishlists", headers=alice)).status_code for _ in range(3)
    ]
    bob_status = (await gateway.client.get("/api/v1/wishlists", headers=bob)).status_code
    anonymous = (await gateway.client.get("/api/v1/shared/x")).status_code

    assert alice_statuses == [200, 200, 429]
    assert bob_status == 200
    assert anonymous == 200


async def test_gateway_replicas_share_one_budget(
    start_gateway: StartGateway, signing_key: SigningKey
) -> None:
    first = await start_gateway(rate_limit_requests=3)
    second = await start_gateway(rate_limit_requests=3)
    user = bearer(signing_key.token())

    statuses = [
        (await replica.client.get("/api/v1/wishlists", headers=user)).status_code
        for replica in (first, second, first, second)
    ]

    assert statuses == [200, 200, 200, 429]


async def test_rejected_login_attempts_are_throttled_per_address(
    start_gateway: StartGateway, services: Services
) -> None:
    gateway = await start_gateway(auth_failure_limit=2)
    wrong = {"email": "a@example.com", "password": "wrong"}

    rejected = [
        (await gateway.client.post("/api/v1/auth/login?status=401", json=wrong)).status_code
        for _ in range(2)
    ]
    throttled = await gateway.client.post("/api/v1/auth/login?status=401", json=wrong)
    also_register = await gateway.client.post("/api/v1/auth/register", json={})

    assert rejected == [401, 401]
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == PROBLEM
    assert int(throttled.headers["retry-after"]) >= 1
    assert also_register.status_code == 429
    # The throttled attempts never reached auth.
    assert len(services.auth.seen) == 2


async def test_successful_logins_do_not_count_as_rejected_attempts(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(auth_failure_limit=2)

    statuses = [
        (await gateway.client.post("/api/v1/auth/login", json={})).status_code for _ in range(5)
    ]

    assert statuses == [200] * 5


async def test_taken_email_addresses_count_as_rejected_attempts(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(auth_failure_limit=1)

    first = await gateway.client.post("/api/v1/auth/register?status=409", json={})
    second = await gateway.client.post("/api/v1/auth/register?status=409", json={})

    assert [first.status_code, second.status_code] == [409, 429]


async def test_refused_password_reset_tokens_count_as_rejected_attempts(
    start_gateway: StartGateway, services: Services
) -> None:
    gateway = await start_gateway(auth_failure_limit=2)
    guess = {"token": "made-up", "new_password": "whatever-new-1"}

    statuses = [
        (
            await gateway.client.post("/api/v1/auth/password-reset/confirm?status=400", json=guess)
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [400, 400, 429]
    assert len(services.auth.seen) == 2


async def test_asking_for_password_resets_is_not_a_rejected_attempt(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(auth_failure_limit=1)

    statuses = [
        (
            await gateway.client.post(
                "/api/v1/auth/password-reset?status=202", json={"email": "a@example.com"}
            )
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [202] * 3


async def test_redis_outage_refuses_tokens_but_keeps_public_routes_open(
    services: Services,
    servers: Servers,
    namespace: Namespace,
    start_gateway: StartGateway,
    signing_key: SigningKey,
) -> None:
    host, port = servers.redis_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    try:
        gateway = await start_gateway(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        headers = bearer(signing_key.token())
        assert (await gateway.client.get("/api/v1/wishlists", headers=headers)).status_code == 200

        proxy.cut()
        protected = await gateway.client.get("/api/v1/wishlists", headers=headers)
        public = await gateway.client.get("/api/v1/shared/some-token")
        proxy.restore()

        assert protected.status_code == 503
        assert protected.headers["retry-after"] == "2"
        assert protected.headers["content-type"] == PROBLEM
        assert protected.json()["type"] == "/problems/authentication-unavailable"
        assert public.status_code == 200

        async def recovered() -> bool:
            response = await gateway.client.get("/api/v1/wishlists", headers=headers)
            return response.status_code == 200

        await eventually(recovered, message="tokens accepted again once Redis is back")
    finally:
        await proxy.stop()


async def test_rate_limit_keys_stay_in_the_namespace(
    services: Services, servers: Servers, namespace: Namespace, redis: Redis
) -> None:
    settings = gateway_settings(services, servers, namespace, rate_limit_requests=5)
    limits = RateLimits(redis, f"{namespace.redis_prefix}gateway:", settings)
    user = uuid.uuid4()

    await limits.spend(f"user:{user}")
    await limits.record_rejected_attempt("2001:db8::1")

    keys = [k.decode() async for k in redis.scan_iter(match=f"{namespace.redis_prefix}*")]
    assert sorted(keys) == [
        f"{namespace.redis_prefix}gateway:ratelimit:auth-failures:ip:2001:db8::/64",
        f"{namespace.redis_prefix}gateway:ratelimit:requests:user:{user}",
        # The revocation list's seal, which the namespace starts with.
        f"{namespace.redis_prefix}revoked:complete",
    ]
