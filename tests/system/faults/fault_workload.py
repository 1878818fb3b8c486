"""The fault suite's workload: people using the platform through the gateway while it breaks.

Every request goes through the gateway, as a browser's would. An answer that
says "come back later" (503 with ``Retry-After``), or no answer at all because
the gateway itself is down, is retried as a well-behaved client retries;
every other answer is final and is tallied. The ledger keeps what the platform
answered 2xx to, and which writes lost their answer (the platform may or may
not have done them): the invariants then hold the platform to the first and
make room for the second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

API = "/api/v1"
PASSWORD = "correct horse battery"
RETRY_DEADLINE = 120.0
"""Seconds a request keeps retrying through an outage before the suite calls it lost."""
MAX_RETRY_WAIT = 2.0
"""A client honours ``Retry-After`` but waits no longer than this between tries."""
UNAUTHORIZED = 4401
INTERRUPTED = "/problems/upstream-interrupted"
MAYBE_DONE = {INTERRUPTED, "/problems/dependency-unavailable"}
"""503s after which a write may have taken effect: the service went away, or its
database did, perhaps during the commit. Other 503s (the service could not be
reached, tokens could not be checked) stopped the request before it got anywhere."""


@dataclass
class Tally:
    """What one fault's workload was answered."""

    requests: int = 0
    ok: int = 0
    conflicts: int = 0
    """409s of racers who lost, and retries that met their own lost try's effect."""
    retried_503: int = 0
    connection_errors: int = 0
    lost_answers: int = 0
    """Writes retried after their answer was lost: done once, or not at all."""
    cut_off: int = 0
    """Requests that were under way when a process died: the gateway's 503
    ``upstream-interrupted``, or the gateway's own connection broken after the
    request was sent (not refused)."""
    unexpected: list[str] = field(default_factory=list)
    """Any other 5xx, a 503 without ``Retry-After``, a status the operation never answers."""


@dataclass
class Person:
    name: str
    email: str
    id: str = ""
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Ledger:
    """Everything the platform said it did, and the writes whose answer was lost."""

    users: dict[str, Person] = field(default_factory=dict)
    wishlists: dict[str, str] = field(default_factory=dict)
    """wishlist id → owner id"""
    viewers: dict[str, set[str]] = field(default_factory=dict)
    """wishlist id → viewer ids whose share was answered 201"""
    maybe_viewers: dict[str, set[str]] = field(default_factory=dict)
    late_viewers: dict[str, set[str]] = field(default_factory=dict)
    """wishlist id → people it was shared with by email before they registered"""
    items: dict[str, str] = field(default_factory=dict)
    """item id → wishlist id, for items answered 201"""
    deleted_items: set[str] = field(default_factory=set)
    reservations: dict[str, set[str]] = field(default_factory=dict)
    """item id → viewer ids whose reservation was answered 201"""
    maybe_reservations: dict[str, set[str]] = field(default_factory=dict)
    lost_item_adds: Counter[str] = field(default_factory=Counter)
    """wishlist id → item adds whose answer was lost (their ids are unknown)"""
    revoked_tokens: list[str] = field(default_factory=list)
    races: list[tuple[str, int, bool]] = field(default_factory=list)
    """(item id, 201s among its racers, whether a racer's answer was lost)"""


class Api:
    """The gateway as the workload calls it, retrying through outages."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.tally = Tally()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: Person | None = None,
        body: dict[str, Any] | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
        on_lost: Callable[[], None] | None = None,
    ) -> tuple[httpx.Response, bool]:
        """The final answer, and whether an earlier try of this write lost its answer."""
        write = method != "GET"
        lost = False
        deadline = time.monotonic() + RETRY_DEADLINE
        while True:
            self.tally.requests += 1
            try:
                response = await self.http.request(
                    method, API + path, json=body, headers=who.headers if who else None
                )
            except httpx.TransportError as exc:
                self.tally.connection_errors += 1
                # Refused: nothing was sent. Anything else: it may have been done.
                if not isinstance(exc, httpx.ConnectError):
                    self.tally.cut_off += 1
                    lost = lost or write
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            if response.status_code == 503 and "retry-after" in response.headers:
                self.tally.retried_503 += 1
                kind = response.json().get("type")
                self.tally.cut_off += kind == INTERRUPTED
                if write and kind in MAYBE_DONE:
                    lost = True
                if time.monotonic() > deadline:
                    self.tally.unexpected.append(f"{method} {path}: 503 for {RETRY_DEADLINE} s")
                    return response, lost
                await asyncio.sleep(min(float(response.headers["retry-after"]), MAX_RETRY_WAIT))
                continue
            break
        if lost:
            self.tally.lost_answers += 1
            if on_lost is not None:
                on_lost()
        self._judge(f"{method} {path}", response, lost, expect)
        return response, lost

    def _judge(
        self, what: str, response: httpx.Response, lost: bool, expect: tuple[int, ...]
    ) -> None:
        if response.status_code in expect:
            self.tally.ok += 1
            if response.status_code == 409:
                self.tally.conflicts += 1
        elif lost and response.status_code in (404, 409):
            # The retry met the lost try's effect: already created, already deleted.
            self.tally.conflicts += 1
        elif lost and response.status_code == 200 and 201 in expect:
            # A create that is idempotent (a share: "already shared") says so with 200.
            self.tally.ok += 1
        else:
            self.tally.unexpected.append(f"{what}: {response.status_code} {response.text[:200]}")


class Inbox:
    """One person's socket, kept open: reconnects with ``after=`` whenever it drops."""

    def __init__(self, ws_url: str, person: Person) -> None:
        self.ws_url = ws_url
        self.person = person
        self.received: list[str] = []
        self.closes: Counter[int | str] = Counter()
        self.unexpected: list[str] = []
        self._open = asyncio.Event()
        self._first = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"inbox-{self.person.name}")

    async def opened(self) -> None:
        await asyncio.wait_for(self._open.wait(), 30)

    async def first_notification(self) -> None:
        await asyncio.wait_for(self._first.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            after = f"?after={self.received[-1]}" if self.received else ""
            try:
                async with connect(
                    self.ws_url + after, additional_headers=self.person.headers, open_timeout=10
                ) as socket:
                    self._open.set()
                    opened = time.monotonic()
                    with contextlib.suppress(ConnectionClosed):
                        async for raw in socket:
                            message = json.loads(raw)
                            if message.get("type") == "notification":
                                self.received.append(message["notification"]["id"])
                                self._first.set()
                    # A socket closed at once ("try again later") is backed
                    # off from like a refusal: the suite's hundreds of sockets
                    # would otherwise reconnect hundreds of times a second.
                    if time.monotonic() - opened > 2 * MAX_RETRY_WAIT:
                        backoff = 0.1
                    code = socket.close_code
                    self.closes[code if code is not None else "none"] += 1
                    if code == UNAUTHORIZED:
                        self.unexpected.append(f"{self.person.name}: closed 4401")
            except InvalidStatus as exc:
                # A refusal is not an outage: whatever is away, the gateway
                # accepts and closes with a code that says why (see its sockets).
                status = exc.response.status_code
                self.closes[f"HTTP {status}"] += 1
                if status >= 500:
                    self.unexpected.append(f"{self.person.name}: upgrade answered {status}")
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                # The gateway is down (refused, or it died during the handshake): come back.
                self.closes[type(exc).__name__] += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)


class Workload:
    """One round of people doing what people do, with a hook to break things midway."""

    def __init__(self, api: Api, ws_url: str, ledger: Ledger) -> None:
        self.api = api
        self.ws_url = ws_url
        self.ledger = ledger
        self.inboxes: dict[str, Inbox] = {}
        self.busy = False
        """True while the part of a round that runs into the fault is under way."""
        self.people: list[Person] = []
        """The current round's people with a socket, once they have one."""

    async def stop(self) -> None:
        await asyncio.gather(*(inbox.stop() for inbox in self.inboxes.values()))

    async def person(self, name: str, email: str | None = None) -> Person:
        person = Person(name, email or f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com")
        body = {"email": person.email, "password": PASSWORD, "display_name": name}
        registered, _ = await self.api.call("POST", "/auth/register", body=body, expect=(201,))
        if registered.status_code == 201:
            person.id = registered.json()["id"]
        person.token = await self.login(person)
        if not person.id:
            # Registered by a try whose answer was lost: the account is there.
            me, _ = await self.api.call("GET", "/auth/me", who=person, expect=(200,))
            person.id = me.json()["id"]
        self.ledger.users[person.id] = person
        return person

    async def login(self, person: Person) -> str:
        return (await self._tokens(person))["access_token"]

    async def _tokens(self, person: Person) -> dict[str, str]:
        body = {"email": person.email, "password": PASSWORD}
        response, _ = await self.api.call("POST", "/auth/login", body=body, expect=(200,))
        tokens: dict[str, str] = response.json()
        return tokens

    async def listen(self, person: Person) -> Inbox:
        inbox = Inbox(self.ws_url, person)
        self.inboxes[person.id] = inbox
        inbox.start()
        await inbox.opened()
        return inbox

    async def wishlist(self, owner: Person) -> str:
        body = {"title": f"{owner.name}'s birthday"}
        response, _ = await self.api.call("POST", "/wishlists", who=owner, body=body, expect=(201,))
        wishlist_id = str(response.json()["id"])
        self.ledger.wishlists[wishlist_id] = owner.id
        self.ledger.viewers[wishlist_id] = set()
        self.ledger.maybe_viewers[wishlist_id] = set()
        self.ledger.late_viewers[wishlist_id] = set()
        return wishlist_id

    async def share(self, owner: Person, wishlist_id: str, viewer: Person) -> None:
        response, _ = await self.api.call(
            "POST",
            f"/wishlists/{wishlist_id}/shares",
            who=owner,
            body={"email": viewer.email},
            expect=(201,),
            on_lost=lambda: self.ledger.maybe_viewers[wishlist_id].add(viewer.id),
        )
        if response.status_code in (200, 201):
            self.ledger.viewers[wishlist_id].add(viewer.id)

    async def newcomer(self, owner: Person, wishlist_id: str, name: str) -> None:
        """Shares the list with someone's email, then they register: the share activates.

        They register while things are breaking, so their account's event
        must cross the outage to activate the share and notify them.
        """
        email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        response, _ = await self.api.call(
            "POST",
            f"/wishlists/{wishlist_id}/shares",
            who=owner,
            body={"email": email},
            expect=(201,),
        )
        person = await self.person(name, email)
        if response.status_code in (200, 201):
            self.ledger.late_viewers[wishlist_id].add(person.id)

    async def item(self, owner: Person, wishlist_id: str, title: str) -> str | None:
        response, _ = await self.api.call(
            "POST",
            f"/wishlists/{wishlist_id}/items",
            who=owner,
            body={"title": title, "quantity": 1},
            expect=(201,),
            on_lost=lambda: self.ledger.lost_item_adds.update([wishlist_id]),
        )
        if response.status_code != 201:
            return None
        item_id = str(response.json()["id"])
        self.ledger.items[item_id] = wishlist_id
        self.ledger.reservations[item_id] = set()
        self.ledger.maybe_reservations[item_id] = set()
        return item_id

    async def reserve(self, viewer: Person, wishlist_id: str, item_id: str) -> tuple[int, bool]:
        response, lost = await self.api.call(
            "POST",
            f"/wishlists/{wishlist_id}/items/{item_id}/reservations",
            who=viewer,
            body={},
            # Racers for the last unit: one 201, the others 409.
            expect=(201, 409),
            on_lost=lambda: self.ledger.maybe_reservations[item_id].add(viewer.id),
        )
        if response.status_code == 201:
            self.ledger.reservations[item_id].add(viewer.id)
        return response.status_code, lost

    async def race(self, viewers: list[Person], wishlist_id: str, item_id: str) -> None:
        answers = await asyncio.gather(*(self.reserve(v, wishlist_id, item_id) for v in viewers))
        winners = sum(1 for status, _ in answers if status == 201)
        self.ledger.races.append((item_id, winners, any(lost for _, lost in answers)))

    async def delete_item(self, owner: Person, wishlist_id: str, item_id: str) -> None:
        response, lost = await self.api.call(
            "DELETE", f"/wishlists/{wishlist_id}/items/{item_id}", who=owner, expect=(204,)
        )
        # A 404 after a lost answer: the first try deleted it.
        if response.status_code == 204 or (response.status_code == 404 and lost):
            self.ledger.deleted_items.add(item_id)

    async def revoked_session(self, person: Person) -> None:
        """A second session of ``person``, logged out: its token must stay dead."""
        tokens = await self._tokens(person)
        token = tokens["access_token"]
        await self.api.call(
            "POST",
            "/auth/logout",
            who=Person(person.name, person.email, person.id, token),
            body={"refresh_token": tokens["refresh_token"]},
            expect=(204,),
        )
        self.ledger.revoked_tokens.append(token)

    async def round(self, tag: str, break_things: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """People meet, share lists, add items and race for them; things break midway."""
        owners = await asyncio.gather(self.person(f"Olga{tag}"), self.person(f"Oscar{tag}"))
        viewers = list(
            await asyncio.gather(*(self.person(f"{n}{tag}") for n in ("Vera", "Viktor", "Valya")))
        )
        everyone = [*owners, *viewers]
        await asyncio.gather(*(self.listen(p) for p in everyone))
        self.people = everyone
        lists = await asyncio.gather(*(self.wishlist(o) for o in owners))
        for owner, wishlist_id, other in zip(owners, lists, reversed(owners), strict=True):
            await asyncio.gather(*(self.share(owner, wishlist_id, v) for v in [other, *viewers]))
        await self.revoked_session(viewers[0])
        # Once everyone has had a notification, each socket can resume with
        # after= (and every share is active): that is when things break.
        await asyncio.gather(*(self.inboxes[p.id].first_notification() for p in everyone))
        fault = asyncio.create_task(break_things())
        pairs = zip(owners, lists, reversed(owners), strict=True)
        self.busy = True
        try:
            await asyncio.gather(
                self.newcomer(owners[0], lists[0], f"Nina{tag}"),
                *(self._fill_and_race(o, w, [other, *viewers], tag) for o, w, other in pairs),
            )
        finally:
            self.busy = False
            await fault

    async def _fill_and_race(
        self, owner: Person, wishlist_id: str, viewers: list[Person], tag: str
    ) -> None:
        items = [await self.item(owner, wishlist_id, f"gift {tag}.{n}") for n in range(4)]
        for n, item_id in enumerate(items):
            if item_id is not None:
                await self.race(viewers, wishlist_id, item_id)
            # Reading one's notifications and signing in go on meanwhile.
            reader = viewers[n % len(viewers)]
            await self.api.call("GET", "/notifications/unread-count", who=reader, expect=(200,))
            await self.login(reader)
        reserved = [i for i in items if i is not None and self.ledger.reservations.get(i)]
        if reserved:
            await self.delete_item(owner, wishlist_id, reserved[0])

    async def browse(self, target: str) -> None:
        """People reading, back to back, from ``target`` (a process) until cancelled:
        it then holds requests nearly all the time, so a kill meets some."""
        path = {
            "auth": "/auth/me",
            "wishlists": "/wishlists",
            "notifier": "/notifications",
            "gateway": "/wishlists",
        }[target]

        async def reader(person: Person) -> None:
            while True:
                if target == "auth":
                    # Signing in hashes a password: auth holds it for a while.
                    await self.login(person)
                await self.api.call("GET", path, who=person, expect=(200,))

        await asyncio.gather(*(reader(p) for p in self.people))
