"""What people do on the platform, as locust users, through the gateway's public API.

Each simulated person registers and signs in once, owns a list with a few
items, and shares it with two other simulated people (by email, so the share
works whether or not that person has registered yet). Then, with a pause
between actions as a person has, they mostly read: their lists, the lists
shared with them, their notifications; now and then they write: a new list, a
new item, a reservation on a list shared with them, "mark all read".

Every answer is checked: an unexpected status (any 5xx included) is a locust
failure. A 409 on a reservation is an expected answer (the last unit went to
someone else, or this person already holds one), not a failure.

``tests/load/soak.py`` runs this file; it can also be run by hand:
``locust --headless -f tests/load/locustfile.py --host http://127.0.0.1:8000``.
"""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser, ResponseContextManager

API = "/api/v1"
PASSWORD = "correct horse battery"
# One tag per locust run: emails stay unique when the same platform sees two runs.
RUN = uuid.uuid4().hex[:8]
# Each user's number; a user shares with the next two numbers, who register
# soon after (or never, and the share stays pending, which is also realistic).
_numbers = itertools.count()
SHARES_PER_OWNER = 2
ITEMS_AT_START = 3
# What is expected of a reservation: 201, or 409 when nothing is left for the caller.
RESERVATION_OK = (201, 409)


def email_of(number: int) -> str:
    return f"load-{RUN}-{number}@example.com"


def check(response: ResponseContextManager, *expected: int) -> Any:
    """Marks the request a failure unless its status is expected; returns the JSON body."""
    if response.status_code not in expected:
        response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
        return None
    response.success()
    if response.status_code == 204 or not response.text:
        return None
    return response.json()


class Person(FastHttpUser):
    # A person pauses between actions; 300 of them make roughly 100 requests a second.
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.email = email_of(self.number)
        self.token = ""
        self.own: list[str] = []
        self.shared: list[str] = []
        with self.client.post(
            f"{API}/auth/register",
            json={"email": self.email, "password": PASSWORD, "display_name": f"P{self.number}"},
            name="auth/register",
            catch_response=True,
        ) as r:
            registered = check(r, 201)
        if registered is None:
            # Every later request would fail too, for the reason already recorded.
            self.stop()
            return
        with self.client.post(
            f"{API}/auth/login",
            json={"email": self.email, "password": PASSWORD},
            name="auth/login",
            catch_response=True,
        ) as r:
            body = check(r, 200)
        if body is None:
            self.stop()
            return
        self.token = body["access_token"]
        wishlist = self.create_wishlist()
        if wishlist is None:
            return
        for _ in range(ITEMS_AT_START):
            self.add_item_to(wishlist)
        for offset in range(1, SHARES_PER_OWNER + 1):
            with self.client.post(
                f"{API}/wishlists/{wishlist}/shares",
                json={"email": email_of(self.number + offset)},
                headers=self.auth,
                name="wishlists/{id}/shares",
                catch_response=True,
            ) as r:
                check(r, 201)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def create_wishlist(self) -> str | None:
        with self.client.post(
            f"{API}/wishlists",
            json={"title": f"Birthday {len(self.own) + 1}", "description": "Things I like"},
            headers=self.auth,
            name="wishlists (create)",
            catch_response=True,
        ) as r:
            body = check(r, 201)
        if body is None:
            return None
        self.own.append(body["id"])
        return str(body["id"])

    def add_item_to(self, wishlist: str) -> None:
        with self.client.post(
            f"{API}/wishlists/{wishlist}/items",
            json={
                "title": f"Thing {random.randint(1, 10_000)}",
                "price": "19.99",
                "currency": "EUR",
                "quantity": random.randint(1, 3),
            },
            headers=self.auth,
            name="wishlists/{id}/items (create)",
            catch_response=True,
        ) as r:
            check(r, 201)

    # Reads dominate: about nine in ten requests.

    @task(8)
    def unread_count(self) -> None:
        with self.client.get(
            f"{API}/notifications/unread-count",
            headers=self.auth,
            name="notifications/unread-count",
            catch_response=True,
        ) as r:
            check(r, 200)

    @task(6)
    def shared_with_me(self) -> None:
        with self.client.get(
            f"{API}/wishlists/shared-with-me",
            headers=self.auth,
            name="wishlists/shared-with-me",
            catch_response=True,
        ) as r:
            body = check(r, 200)
        if body is not None:
            self.shared = [w["id"] for w in body["items"]]

    @task(8)
    def read_a_shared_list(self) -> None:
        if not self.shared:
            return
        with self.client.get(
            f"{API}/wishlists/{random.choice(self.shared)}",
            headers=self.auth,
            name="wishlists/{id} (as viewer)",
            catch_response=True,
        ) as r:
            check(r, 200)

    @task(5)
    def my_lists(self) -> None:
        with self.client.get(
            f"{API}/wishlists", headers=self.auth, name="wishlists", catch_response=True
        ) as r:
            check(r, 200)

    @task(5)
    def read_my_list(self) -> None:
        if not self.own:
            return
        with self.client.get(
            f"{API}/wishlists/{random.choice(self.own)}",
            headers=self.auth,
            name="wishlists/{id} (as owner)",
            catch_response=True,
        ) as r:
            check(r, 200)

    @task(5)
    def notifications(self) -> None:
        with self.client.get(
            f"{API}/notifications", headers=self.auth, name="notifications", catch_response=True
        ) as r:
            check(r, 200)

    @task(2)
    def shopping_list(self) -> None:
        with self.client.get(
            f"{API}/reservations", headers=self.auth, name="reservations", catch_response=True
        ) as r:
            check(r, 200)

    # Writes.

    @task(2)
    def reserve(self) -> None:
        if not self.shared:
            # Someone about to buy a present looks for the lists shared with
            # them first; shares made before they registered activate by event.
            self.shared_with_me()
        if not self.shared:
            return
        wishlist = random.choice(self.shared)
        with self.client.get(
            f"{API}/wishlists/{wishlist}",
            headers=self.auth,
            name="wishlists/{id} (as viewer)",
            catch_response=True,
        ) as r:
            body = check(r, 200)
        if not body or not body["items"]:
            return
        item = random.choice(body["items"])
        with self.client.post(
            f"{API}/wishlists/{wishlist}/items/{item['id']}/reservations",
            json={"quantity": 1},
            headers=self.auth,
            name="wishlists/{id}/items/{item_id}/reservations",
            catch_response=True,
        ) as r:
            check(r, *RESERVATION_OK)

    @task(2)
    def add_item(self) -> None:
        if self.own:
            self.add_item_to(random.choice(self.own))

    @task(1)
    def new_list(self) -> None:
        self.create_wishlist()

    @task(1)
    def mark_all_read(self) -> None:
        with self.client.post(
            f"{API}/notifications/read-all",
            headers=self.auth,
            name="notifications/read-all",
            catch_response=True,
        ) as r:
            check(r, 204)
