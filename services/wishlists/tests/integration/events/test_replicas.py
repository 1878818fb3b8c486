"""Two wishlists replicas side by side: competing consumers, one outbox, shared locks.

The gateway sends its requests to the first replica; the test sends the other
half straight to the second (which checks the token itself). Both consume the
same queues and both run an outbox relay.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import ServiceProcess
from wishlist_shared.testing.stack import FACTORIES, Stack

if TYPE_CHECKING:
    from conftest import Api, EventLog

pytestmark = pytest.mark.system

API = "/api/v1"
VIEWERS = 12


@pytest.fixture
async def second_replica(own_stack: Api, stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    replica = ServiceProcess("wishlists-2", FACTORIES["wishlists"], stack.env("wishlists"))
    await replica.start()
    stack.processes["wishlists-2"] = replica
    async with httpx.AsyncClient(base_url=replica.url, timeout=15) as client:
        yield client


async def test_two_replicas_share_the_work_without_losing_or_repeating_anything(
    own_stack: Api, second_replica: httpx.AsyncClient, stack: Stack, stack_bus: EventLog
) -> None:
    api, bus = own_stack, stack_bus
    replicas = [api.gateway, second_replica]
    owner = await api.user("Olga")
    created = await second_replica.post(
        f"{API}/wishlists", json={"title": "Twice served"}, headers=owner.auth
    )
    assert created.status_code == 201, created.text
    wid = created.json()["id"]
    item = await api.add_item(owner, wid, title="The one")

    # Pending shares made through both replicas; the registrations that
    # activate them are consumed by whichever replica gets each event.
    emails = [f"r{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(VIEWERS)]
    for n, email in enumerate(emails):
        response = await replicas[n % 2].post(
            f"{API}/wishlists/{wid}/shares", json={"email": email}, headers=owner.auth
        )
        assert response.status_code == 201, response.text
    viewers = list(
        await asyncio.gather(*(api.user(f"Viewer {n}", email=e) for n, e in enumerate(emails)))
    )

    def every_share_announced_once() -> bool:
        shared = bus.of("wishlists.wishlist_shared.v2", lambda p: p["wishlist"]["id"] == wid)
        counts = Counter(e.payload["viewer_id"] for e in shared)
        assert all(n == 1 for n in counts.values()), counts
        return set(counts) == {v.id for v in viewers}

    await eventually(every_share_announced_once, message="a share was lost or repeated")
    logs = [stack.processes[name].logs() for name in ("wishlists", "wishlists-2")]
    assert all("activated 1 pending shares" in log for log in logs), "one replica did it all"

    # The race for the last unit, split between the replicas.
    responses = await asyncio.gather(
        *(
            replicas[n % 2].post(
                f"{API}/wishlists/{wid}/items/{item['id']}/reservations",
                json={"quantity": 1},
                headers=viewer.auth,
            )
            for n, viewer in enumerate(viewers)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: VIEWERS - 1}

    def reserved_once() -> bool:
        reserved = bus.of("wishlists.item_reserved.v1", lambda p: p["item"]["id"] == item["id"])
        assert len(reserved) <= 1
        return len(reserved) == 1

    await eventually(reserved_once)
    winner = next(v for v, r in zip(viewers, responses, strict=True) if r.status_code == 201)
    (event,) = bus.of("wishlists.item_reserved.v1", lambda p: p["item"]["id"] == item["id"])
    assert sorted(event.payload["recipient_ids"]) == sorted(
        v.id for v in viewers if v is not winner
    )
