"""The WebSocket relay: who may open a socket, what reaches it, and when it closes."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

from gateway_harness import (
    LoopbackServer,
    RunningGateway,
    Services,
    SigningKey,
    StartGateway,
    bearer,
    gateway_settings,
    stop_all,
)
from realtime_harness import (
    FakeNotifier,
    close_code,
    ids_received,
    next_notification,
    open_socket,
    subscribers,
)
from redis.asyncio import Redis

from gateway.main import create_app
from gateway.realtime.hub import RESUME, UNAUTHORIZED
from gateway.realtime.protocol import CLIENT_MESSAGE_BYTES
from gateway.realtime.sockets import UNKNOWN_AFTER
from wishlist_shared.revocation import RevocationList
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.servers import Servers
from wishlist_shared.testing.stack import Namespace

MESSAGE_TOO_BIG = 1009


async def _ticket(gateway: RunningGateway, token: str) -> str:
    response = await gateway.client.post("/api/v1/realtime/ticket", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == 30
    ticket: str = body["ticket"]
    return ticket


async def test_a_ticket_opens_one_socket_and_only_once(
    relay: RunningGateway, signing_key: SigningKey, fake_notifier: FakeNotifier
) -> None:
    user = str(uuid.uuid4())
    ticket = await _ticket(relay, signing_key.token(sub=user))

    async with open_socket(relay.url, ticket=ticket) as ws:
        sent = await fake_notifier.notify(user)
        assert await next_notification(ws) == sent
        async with open_socket(relay.url, ticket=ticket) as again:
            assert await close_code(again) == UNAUTHORIZED


async def test_a_ticket_needs_a_valid_token(relay: RunningGateway) -> None:
    missing = await relay.client.post("/api/v1/realtime/ticket")
    made_up = await relay.client.post("/api/v1/realtime/ticket", headers=bearer("not.a.token"))

    assert missing.status_code == 401
    assert made_up.status_code == 401


async def test_expired_unknown_or_missing_credentials_close_the_socket_with_4401(
    relay: RunningGateway, signing_key: SigningKey, redis: Redis, namespace: Namespace
) -> None:
    expired = await _ticket(relay, signing_key.token())
    key = (
        f"{namespace.redis_prefix}gateway:ws-ticket:{hashlib.sha256(expired.encode()).hexdigest()}"
    )
    # Thirty seconds are long for a test: Redis ends the ticket's life now.
    assert await redis.pexpire(key, 1)
    await eventually(lambda: _gone(redis, key), message="ticket expired")

    attempts = [
        {"ticket": expired},
        {"ticket": "made-up-ticket"},
        {},
        {"token": signing_key.tampered_token()},
        {"token": signing_key.token(exp=int(time.time()) - 60)},
    ]
    for params in attempts:
        async with open_socket(relay.url, **params) as ws:
            assert await close_code(ws) == UNAUTHORIZED, params


async def _gone(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)


async def test_a_bearer_header_on_the_handshake_opens_a_socket(
    relay: RunningGateway, signing_key: SigningKey, fake_notifier: FakeNotifier
) -> None:
    user = str(uuid.uuid4())
    async with open_socket(relay.url, signing_key.token(sub=user)) as ws:
        sent = await fake_notifier.notify(user)
        assert await next_notification(ws) == sent


async def test_a_client_message_over_the_cap_closes_its_socket_with_1009_and_a_small_one_does_not(
    relay: RunningGateway, signing_key: SigningKey, fake_notifier: FakeNotifier
) -> None:
    user = str(uuid.uuid4())
    async with (
        open_socket(relay.url, signing_key.token(sub=user)) as chatty,
        open_socket(relay.url, signing_key.token(sub=user)) as flooding,
    ):
        await chatty.send("x" * CLIENT_MESSAGE_BYTES)
        await flooding.send("x" * (CLIENT_MESSAGE_BYTES + 1))

        assert await close_code(flooding) == MESSAGE_TOO_BIG
        sent = await fake_notifier.notify(user)
        assert await next_notification(chatty) == sent


async def test_every_socket_of_the_user_gets_the_notification_and_no_other_user_does(
    relay: RunningGateway, signing_key: SigningKey, fake_notifier: FakeNotifier
) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    async with (
        open_socket(relay.url, signing_key.token(sub=alice)) as tab,
        open_socket(relay.url, signing_key.token(sub=alice)) as phone,
        open_socket(relay.url, signing_key.token(sub=bob)) as bobs,
    ):
        for_alice = await fake_notifier.notify(alice)
        for_bob = await fake_notifier.notify(bob)

        assert await next_notification(tab) == for_alice
        assert await next_notification(phone) == for_alice
        # Bob's first message is his own: Alice's never reached him.
        assert await next_notification(bobs) == for_bob


async def test_after_replays_what_was_missed_then_goes_live_without_gap_or_repeat(
    relay: RunningGateway, signing_key: SigningKey, fake_notifier: FakeNotifier
) -> None:
    user = str(uuid.uuid4())
    seen = await fake_notifier.notify(user)
    missed = [await fake_notifier.notify(user) for _ in range(3)]
    fake_notifier.hold = asyncio.Event()

    async with open_socket(relay.url, signing_key.token(sub=user), after=seen["id"]) as ws:
        await eventually(lambda: fake_notifier.replays, message="replay asked for")
        # During the replay: one committed and pushed (the replay will hold it
        # too), one committed whose push comes late, and a repeated push.
        during = await fake_notifier.notify(user)
        late = await fake_notifier.notify(user, publish=False)
        await fake_notifier.push(user, missed[0])
        fake_notifier.hold.set()
        await eventually(lambda: not _replaying(fake_notifier), message="replay done")
        await fake_notifier.push(user, late)
        live = await fake_notifier.notify(user)

        received = await ids_received(ws, 6)
        marker = await fake_notifier.notify(user)
        following = await next_notification(ws)

    expected = [n["id"] for n in [*missed, during, late, live]]
    assert received == expected
    # Nothing repeated after them either: the next message is the next one.
    assert following == marker
    replay = fake_notifier.replays
    assert replay[0]["after"] == seen["id"]
    assert replay[0]["limit"] == "200"
    assert replay[0]["authorization"].startswith("Bearer ")
    assert len(replay) == 3, "pages of two, followed by cursor"


def _replaying(fake: FakeNotifier) -> bool:
    # Pages of two over five notifications: three requests in all.
    return len(fake.replays) < 3


async def test_an_unknown_after_closes_the_socket_with_4404(
    relay: RunningGateway, signing_key: SigningKey
) -> None:
    async with open_socket(relay.url, signing_key.token(), after=str(uuid.uuid4())) as ws:
        assert await close_code(ws) == UNKNOWN_AFTER


async def test_a_client_too_slow_is_closed_with_resume_and_resumes_with_after(
    start_gateway: StartGateway,
    notifier: tuple[FakeNotifier, str],
    signing_key: SigningKey,
    redis: Redis,
    namespace: Namespace,
) -> None:
    fake, notifier_url = notifier
    gateway = await start_gateway(notifier_url=notifier_url, ws_send_queue_size=4)
    user = str(uuid.uuid4())
    token = signing_key.token(sub=user)
    channel = f"{namespace.redis_prefix}notifications:{user}"

    async def flood() -> bool:
        for _ in range(20):
            await fake.notify(user, size=64 * 1024)
        return await subscribers(redis, channel) == 0

    # max_queue=1: the client stops reading from the network at once, so the
    # gateway's sends back up behind it.
    async with open_socket(gateway.url, token, max_queue=1) as ws:
        await eventually(flood, timeout=20, message="slow socket dropped")
        received = []
        try:
            while True:
                received.append((await next_notification(ws))["id"])
        except Exception:  # noqa: BLE001, S110 - the close ends the loop; checked below
            pass
        assert ws.close_code == RESUME

    async with open_socket(gateway.url, token, after=received[-1]) as resumed:
        rest = await ids_received(resumed, len(fake.stored[user]) - len(received))
    assert received + rest == [n["id"] for n in fake.stored[user]]
    metrics = (await gateway.client.get("/metrics")).text
    assert 'gateway_websocket_closes_total{code="4008"}' in metrics


async def test_a_revoked_session_closes_its_sockets_with_4401_and_spares_others(
    relay: RunningGateway,
    signing_key: SigningKey,
    fake_notifier: FakeNotifier,
    redis: Redis,
    namespace: Namespace,
) -> None:
    user, session = str(uuid.uuid4()), str(uuid.uuid4())
    async with (
        open_socket(relay.url, signing_key.token(sub=user, sid=session)) as ended,
        open_socket(relay.url, signing_key.token(sub=user)) as other,
    ):
        await RevocationList(redis, namespace.redis_prefix).revoke_sessions(
            [uuid.UUID(session)], 60
        )
        assert await close_code(ended) == UNAUTHORIZED
        sent = await fake_notifier.notify(user)
        assert await next_notification(other) == sent


async def test_a_socket_closes_with_4401_when_its_token_expires(
    relay: RunningGateway, signing_key: SigningKey
) -> None:
    token = signing_key.token(exp=int(time.time()) + 1)
    async with open_socket(relay.url, token) as ws:
        assert await close_code(ws) == UNAUTHORIZED


async def test_a_peer_that_stops_answering_pings_is_dropped_and_unsubscribed(
    *,
    services: Services,
    servers: Servers,
    namespace: Namespace,
    notifier: tuple[FakeNotifier, str],
    signing_key: SigningKey,
    redis: Redis,
) -> None:
    settings = gateway_settings(services, servers, namespace, notifier_url=notifier[1])
    server = LoopbackServer(
        create_app(settings), lifespan=True, ws_ping_interval=0.2, ws_ping_timeout=0.2
    )
    url = await server.start()
    user = str(uuid.uuid4())
    channel = f"{namespace.redis_prefix}notifications:{user}"
    try:
        async with open_socket(url, signing_key.token(sub=user)) as ws:
            assert await subscribers(redis, channel) == 1
            # A peer gone silent: it reads nothing more, so it answers no ping.
            ws.transport.pause_reading()
            # uvicorn sends its close frame at the ping timeout, then gives the
            # peer its 10 s close timeout before it lets the connection go.
            await eventually(
                lambda: _unsubscribed(redis, channel), timeout=20, message="dead peer dropped"
            )
    finally:
        await stop_all([server])


async def _unsubscribed(redis: Redis, channel: str) -> bool:
    return await subscribers(redis, channel) == 0
