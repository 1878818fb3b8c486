"""SIGTERM under load loses nothing: no request fails, no event goes missing or twice.

A rollout or a scale-down sends SIGTERM to a replica while it serves. These
tests do that to real processes under sustained concurrent load through the
gateway, then count what every user was told, over REST:

- two replicas of wishlists behind a round-robin balancer (what a Kubernetes
  Service is to the gateway); one of them is stopped mid-load: every request
  still succeeds, and every event of every successful write becomes exactly
  one notification for each of its recipients;
- the notifier is stopped while events flow to it and started again: every
  notification arrives exactly once;
- the gateway is stopped with a socket open: the socket is closed with 1012
  (service restart), so the client knows to reconnect, not dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from wishlist_shared.settings import ProcessSettings
from wishlist_shared.testing.balancer import Backend, Balancer
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import ServiceProcess, free_port
from wishlist_shared.testing.stack import FACTORIES, Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]

API = "/api/v1"
PASSWORD = "correct horse battery"
GATEWAY_LIMITS = {"GATEWAY_RATE_LIMIT_REQUESTS": "1000000"}
VIEWERS = 3
WRITERS = 8
# Enough writes on either side of the SIGTERM that the stopping replica is
# busy when the signal comes and the survivor carries the load afterwards.
WRITES_BEFORE = 40
WRITES_AFTER = 40
DRAIN_SECONDS = ProcessSettings.model_fields["shutdown_drain_seconds"].default


@dataclass
class Person:
    id: str
    email: str
    headers: dict[str, str]


async def register(http: httpx.AsyncClient, name: str) -> Person:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    registered = await http.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    login = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    return Person(registered.json()["id"], email, {"Authorization": f"Bearer {token}"})


async def notifications(http: httpx.AsyncClient, who: Person) -> list[dict[str, Any]]:
    """Every notification of ``who``, following the pages."""
    found: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 200}
    while True:
        response = await http.get(f"{API}/notifications", params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if not page["next_cursor"]:
            return found
        params = {"limit": 200, "cursor": page["next_cursor"]}


def told(items: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """What a user was told about items: (kind, item id) -> how many times."""
    return Counter(
        (n["kind"], n["data"]["item"]["id"])
        for n in items
        if n["kind"] in ("item_added", "item_reserved")
    )


@dataclass
class Load:
    """Several clients writing to shared lists as fast as they can.

    Writers (as the owner) add items, each to a list of its own (a list holds
    at most 500 items); each item is handed to one viewer, who reserves it.
    Every response is recorded: a status other than 201 is a failed request.
    So each viewer must be told of every item added and of every item
    reserved by someone else, once.
    """

    http: httpx.AsyncClient
    owner: Person
    viewers: list[Person]
    wishlists: list[str]
    items: list[str] = field(default_factory=list)
    reserved_by: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    writes: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _handed: list[asyncio.Queue[tuple[str, str]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._handed = [asyncio.Queue() for _ in self.viewers]
        turns = itertools.count()
        self._tasks = [
            *(asyncio.create_task(self._write_items(turns, w)) for w in self.wishlists),
            *(asyncio.create_task(self._reserve(v)) for v in range(len(self.viewers))),
        ]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def writes_reach(self, count: int) -> None:
        await eventually(lambda: self.writes >= count, timeout=60, message=f"{count} writes")

    async def _post(self, who: Person, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = await self.http.post(f"{API}{path}", json=body, headers=who.headers)
        except httpx.HTTPError as exc:
            self.failures.append(f"POST {path}: {exc!r}")
            return None
        if response.status_code != 201:
            self.failures.append(f"POST {path}: {response.status_code} {response.text}")
            return None
        self.writes += 1
        result: dict[str, Any] = response.json()
        return result

    async def _write_items(self, turns: itertools.count[int], wishlist: str) -> None:
        while not self._stop.is_set():
            n = next(turns)
            item = await self._post(
                self.owner, f"/wishlists/{wishlist}/items", {"title": f"Gift {n}"}
            )
            if item is not None:
                self.items.append(item["id"])
                self._handed[n % len(self.viewers)].put_nowait((wishlist, item["id"]))

    async def _reserve(self, viewer: int) -> None:
        queue = self._handed[viewer]
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    wishlist, item = await queue.get()
                path = f"/wishlists/{wishlist}/items/{item}/reservations"
                if await self._post(self.viewers[viewer], path, {}) is not None:
                    self.reserved_by[item] = viewer

    def expected(self, viewer: int) -> Counter[tuple[str, str]]:
        added = [("item_added", item) for item in self.items]
        reserved = [("item_reserved", i) for i, by in self.reserved_by.items() if by != viewer]
        return Counter(added + reserved)


async def shared_list(http: httpx.AsyncClient, owner: Person, viewers: list[Person]) -> str:
    created = await http.post(f"{API}/wishlists", json={"title": "Wedding"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    wishlist = str(created.json()["id"])
    for viewer in viewers:
        body = {"email": viewer.email}
        path = f"{API}/wishlists/{wishlist}/shares"
        shared = await http.post(path, json=body, headers=owner.headers)
        assert shared.status_code == 201, shared.text
    return wishlist


async def everyone_told_exactly_once(http: httpx.AsyncClient, load: Load) -> None:
    """Waits until each viewer's inbox holds what the load's writes call for, then checks it."""
    for i, viewer in enumerate(load.viewers):
        expected = load.expected(i)

        async def complete(
            v: Person = viewer, expected: Counter[tuple[str, str]] = expected
        ) -> list[dict[str, Any]]:
            seen = await notifications(http, v)
            missing = set(expected) - set(told(seen))
            assert not missing, f"{len(missing)} of {len(expected)} missing for {v.email}"
            return seen

        seen = await eventually(complete, timeout=120, interval=0.5)
        assert told(seen) == expected, "a notification is missing or came twice"
        # And nothing else: the shares themselves, once each.
        assert [n["kind"] for n in seen].count("wishlist_shared") == len(load.wishlists)
    assert await notifications(http, load.owner) == []


async def readiness(http: httpx.AsyncClient, url: str) -> int | None:
    """The status of ``url``'s ``/readyz``, as a kubelet's probe sees it; None: no answer."""
    try:
        return (await http.get(f"{url}/readyz")).status_code
    except httpx.TransportError:
        return None


async def ready(http: httpx.AsyncClient, url: str) -> bool:
    return await readiness(http, url) == 200


async def draining(http: httpx.AsyncClient, url: str) -> bool:
    return await readiness(http, url) == 503


@contextlib.asynccontextmanager
async def gateway_client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30, limits=limits) as http:
        yield http


async def test_sigterm_to_a_wishlists_replica_under_load_fails_no_request_and_loses_no_event(
    stack: Stack,
) -> None:
    await stack.start("auth")
    await stack.start("notifier")
    replicas = []
    # The drain a deployment gets by default (tests otherwise skip it).
    env = stack.env("wishlists", {"WISHLISTS_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS)})
    for name in ("wishlists-a", "wishlists-b"):
        replica = ServiceProcess(name, FACTORIES["wishlists"], env, port=free_port())
        stack.processes[name] = replica
        await replica.start()
        replicas.append(replica)
    stopping, surviving = replicas
    backends = [Backend.local(r.port) for r in replicas]
    async with Balancer(backends) as balancer, gateway_client(stack) as http:
        await stack.start("gateway", GATEWAY_WISHLISTS_URL=balancer.url, **GATEWAY_LIMITS)
        for url in (*(r.url for r in replicas), stack.url("auth"), stack.url("notifier")):
            await eventually(lambda u=url: ready(http, u), timeout=120, message=f"{url} ready")

        owner = await register(http, "Olive")
        viewers = [await register(http, f"Viewer{i}") for i in range(VIEWERS)]
        wishlists = [await shared_list(http, owner, viewers) for _ in range(WRITERS)]
        load = Load(http, owner, viewers, wishlists)
        load.start()
        try:
            await load.writes_reach(WRITES_BEFORE)
            # Mid-load: the gateway holds connections to it, with requests in flight.
            assert balancer.open[backends[0]] > 0
            served_before = balancer.connections[backends[0]]
            stopping.terminate()
            # Kubernetes takes a terminating pod out of the Service's
            # endpoints while it shuts down; new connections go elsewhere,
            # open ones (conntrack) stay with it.
            balancer.remove(backends[0])
            # Draining: still serving, but no longer ready.
            await eventually(lambda: draining(http, stopping.url), timeout=10)
            assert await stopping.wait_exit(timeout=60), "did not exit by itself"
            at_exit = load.writes
            await load.writes_reach(at_exit + WRITES_AFTER)
        finally:
            await load.stop()

        assert load.failures == []
        assert served_before > 0
        # The survivor carried the load after the SIGTERM.
        assert surviving.running
        await everyone_told_exactly_once(http, load)
    assert "timeout graceful shutdown exceeded" not in stopping.logs()


async def test_sigterm_to_the_notifier_while_events_flow_loses_and_duplicates_no_notification(
    stack: Stack,
) -> None:
    await stack.start_platform({"gateway": GATEWAY_LIMITS})
    async with gateway_client(stack) as http:
        owner = await register(http, "Olive")
        viewers = [await register(http, f"Viewer{i}") for i in range(VIEWERS)]
        wishlists = [await shared_list(http, owner, viewers) for _ in range(WRITERS)]
        load = Load(http, owner, viewers, wishlists)
        load.start()
        try:
            await load.writes_reach(WRITES_BEFORE)
            notifier = stack.processes["notifier"]
            assert await notifier.stop(), "the notifier did not exit by itself"
            # Events keep coming while no notifier runs; they wait in its queues.
            down_at = load.writes
            await load.writes_reach(down_at + 10)
            restarted = await stack.start("notifier")
            # Its consumers run once it is ready (RabbitMQ connected, queues declared).
            await eventually(lambda: ready(http, restarted.url), timeout=120)
            await load.writes_reach(load.writes + WRITES_AFTER)
        finally:
            await load.stop()

        assert load.failures == []
        await everyone_told_exactly_once(http, load)
    assert "timeout graceful shutdown exceeded" not in notifier.logs()


async def test_sigterm_to_the_gateway_closes_open_sockets_with_service_restart(
    stack: Stack,
) -> None:
    await stack.start_platform({"gateway": GATEWAY_LIMITS})
    async with gateway_client(stack) as http:
        viewer = await register(http, "Vera")
        url = stack.url("gateway").replace("http://", "ws://") + "/ws"
        async with connect(url, additional_headers=viewer.headers, open_timeout=10) as ws:
            gateway = stack.processes["gateway"]
            gateway.terminate()
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd is not None, "dropped without a close frame"
            assert closed.value.rcvd.code == 1012
            assert await gateway.wait_exit(timeout=30)
