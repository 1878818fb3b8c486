"""What must hold after every fault, checked against the databases and the sockets.

The databases are read as the superuser (row-level security does not apply to
it), so nothing the services do or do not show can hide a fault's damage.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fault_workload import Inbox, Ledger

Key = tuple[str, str, str]
"""(recipient id, kind, what it is about: the wishlist for a share, else the item)"""


@dataclass
class Expected:
    required: set[Key] = field(default_factory=set)
    optional: set[Key] = field(default_factory=set)
    """Notifications of writes whose answer was lost: they may exist, once."""


def expected_notifications(ledger: Ledger) -> Expected:
    """The notifications the SPEC's table asks for, given what was answered 2xx."""
    out = Expected()
    for wishlist_id in ledger.wishlists:
        # Late viewers are told once their share activates: surely, in the end.
        sure = ledger.viewers[wishlist_id] | ledger.late_viewers[wishlist_id]
        maybe = ledger.maybe_viewers[wishlist_id] - sure
        out.required |= {(v, "wishlist_shared", wishlist_id) for v in sure}
        out.optional |= {(v, "wishlist_shared", wishlist_id) for v in maybe}
    for item_id, wishlist_id in ledger.items.items():
        sure = ledger.viewers[wishlist_id]
        # A late viewer hears of what happens once their share is active,
        # which the workload does not wait for.
        maybe = (ledger.maybe_viewers[wishlist_id] | ledger.late_viewers[wishlist_id]) - sure
        out.required |= {(v, "item_added", item_id) for v in sure}
        out.optional |= {(v, "item_added", item_id) for v in maybe}
        reservers = ledger.reservations[item_id]
        maybe_reservers = ledger.maybe_reservations[item_id] - reservers
        for r in reservers:
            out.required |= {(v, "item_reserved", item_id) for v in sure - {r}}
            out.optional |= {(v, "item_reserved", item_id) for v in maybe - {r}}
        for r in maybe_reservers:
            out.optional |= {(v, "item_reserved", item_id) for v in (sure | maybe) - {r}}
        if item_id in ledger.deleted_items:
            out.required |= {(r, "reserved_item_removed", item_id) for r in reservers}
            out.optional |= {(r, "reserved_item_removed", item_id) for r in maybe_reservers}
    return out


@dataclass
class Notifications:
    ids_by_recipient: dict[str, set[str]]
    keys: Counter[Key]
    lists_of_unknown_items: list[str]


async def read_notifications(db: asyncpg.Connection, ledger: Ledger) -> Notifications:
    rows = await db.fetch(
        "SELECT id, recipient_id, kind, data FROM notifier.notifications"
        " WHERE recipient_id = ANY($1::uuid[])",
        list(ledger.users),
    )
    ids: dict[str, set[str]] = {}
    keys: Counter[Key] = Counter()
    unknown: list[str] = []
    for row in rows:
        data: dict[str, Any] = json.loads(row["data"])
        recipient = str(row["recipient_id"])
        ids.setdefault(recipient, set()).add(str(row["id"]))
        subject = data["wishlist"]["id"] if row["kind"] == "wishlist_shared" else data["item"]["id"]
        keys[(recipient, row["kind"], subject)] += 1
        if row["kind"] != "wishlist_shared" and subject not in ledger.items:
            unknown.append(data["wishlist"]["id"])
    return Notifications(ids, keys, unknown)


@dataclass
class Findings:
    """Everything that does not hold; empty lists mean the platform came through."""

    missing_notifications: list[str] = field(default_factory=list)
    duplicate_notifications: list[str] = field(default_factory=list)
    unexplained_notifications: list[str] = field(default_factory=list)
    socket_gaps: list[str] = field(default_factory=list)
    socket_duplicates: list[str] = field(default_factory=list)
    lost_writes: list[str] = field(default_factory=list)
    oversold: list[str] = field(default_factory=list)
    races: list[str] = field(default_factory=list)
    outbox_left: list[str] = field(default_factory=list)
    """Outbox rows not published: pending (a relay stuck) or parked (refused)."""
    dead_letters: list[str] = field(default_factory=list)
    unrouted: list[str] = field(default_factory=list)
    backlog: list[str] = field(default_factory=list)
    """Consumer queues with messages left once everything else had settled."""
    expected: int = 0
    delivered: int = 0

    def problems(self) -> list[str]:
        return [
            *self.missing_notifications,
            *self.duplicate_notifications,
            *self.unexplained_notifications,
            *self.socket_gaps,
            *self.socket_duplicates,
            *self.lost_writes,
            *self.oversold,
            *self.races,
            *self.outbox_left,
            *self.dead_letters,
            *self.unrouted,
            *self.backlog,
        ]


def check_notifications(
    ledger: Ledger, found: Notifications, inboxes: dict[str, Inbox]
) -> Findings:
    expected = expected_notifications(ledger)
    out = Findings(expected=len(expected.required))
    out.missing_notifications = [
        f"missing {k}" for k in sorted(expected.required - set(found.keys))
    ]
    out.duplicate_notifications = [f"{n} times {k}" for k, n in sorted(found.keys.items()) if n > 1]
    known = expected.required | expected.optional
    out.unexplained_notifications = [
        f"unexplained {k}"
        for k in sorted(set(found.keys) - known)
        if k[2] in ledger.items or k[2] in ledger.wishlists
    ]
    # Items whose 201 was lost have ids the ledger never saw; only lists with
    # such a lost add may have notifications about them.
    out.unexplained_notifications += [
        f"notification about an unknown item on {w}"
        for w in found.lists_of_unknown_items
        if not ledger.lost_item_adds[w]
    ]
    for user_id, inbox in inboxes.items():
        stored = found.ids_by_recipient.get(user_id, set())
        received = Counter(inbox.received)
        out.delivered += len(received)
        out.socket_duplicates += [
            f"{inbox.person.name} got {nid} {n} times" for nid, n in received.items() if n > 1
        ]
        out.socket_gaps += [
            f"{inbox.person.name} never got {nid} on a socket"
            for nid in sorted(stored - set(received))
        ]
        out.socket_gaps += [f"{inbox.person.name}: {u}" for u in inbox.unexpected]
    return out


async def check_writes(db: asyncpg.Connection, ledger: Ledger, findings: Findings) -> None:
    """Every write answered 2xx is there; no item is reserved beyond its quantity."""

    async def present(query: str, ids: list[str]) -> set[str]:
        return {str(r[0]) for r in await db.fetch(query, ids)}

    users = await present(
        "SELECT id FROM auth.users WHERE id = ANY($1::uuid[])", list(ledger.users)
    )
    lists = await present(
        "SELECT id FROM wishlists.wishlists WHERE id = ANY($1::uuid[])", list(ledger.wishlists)
    )
    items = await present(
        "SELECT id FROM wishlists.items WHERE id = ANY($1::uuid[])", list(ledger.items)
    )
    findings.lost_writes += [f"user {u} is gone" for u in set(ledger.users) - users]
    findings.lost_writes += [f"wishlist {w} is gone" for w in set(ledger.wishlists) - lists]
    live = set(ledger.items) - ledger.deleted_items
    findings.lost_writes += [f"item {i} is gone" for i in live - items]
    findings.lost_writes += [f"deleted item {i} is back" for i in ledger.deleted_items & items]
    shares = {
        (str(r["wishlist_id"]), str(r["viewer_id"]))
        for r in await db.fetch(
            "SELECT wishlist_id, viewer_id FROM wishlists.shares"
            " WHERE wishlist_id = ANY($1::uuid[]) AND viewer_id IS NOT NULL",
            list(ledger.wishlists),
        )
    }
    findings.lost_writes += [
        f"share of {w} with {v} is gone or never activated"
        for w in ledger.wishlists
        for v in ledger.viewers[w] | ledger.late_viewers[w]
        if (w, v) not in shares
    ]
    reservations = {
        (str(r["item_id"]), str(r["reserver_id"]))
        for r in await db.fetch(
            "SELECT item_id, reserver_id FROM wishlists.reservations"
            " WHERE item_id = ANY($1::uuid[])",
            list(live),
        )
    }
    findings.lost_writes += [
        f"reservation of {i} by {v} is gone"
        for i in live
        for v in ledger.reservations[i]
        if (i, v) not in reservations
    ]
    oversold = await db.fetch(
        "SELECT i.id, i.quantity, sum(r.quantity) AS reserved"
        " FROM wishlists.items i JOIN wishlists.reservations r ON r.item_id = i.id"
        " GROUP BY i.id, i.quantity HAVING sum(r.quantity) > i.quantity"
    )
    findings.oversold += [
        f"item {r['id']}: {r['reserved']} reserved of {r['quantity']}" for r in oversold
    ]
    findings.races += [
        f"item {item}: {winners} racers got 201"
        for item, winners, lost in ledger.races
        if winners > 1 or (winners == 0 and not lost)
    ]


SERVICES = ("auth", "wishlists", "notifier")


async def check_outboxes(db: asyncpg.Connection, findings: Findings) -> None:
    """Every event of every service went out: no outbox row is anything but published."""
    for service in SERVICES:
        rows = await db.fetch(
            f"SELECT state, count(*) AS n FROM {service}.outbox"  # noqa: S608 - our own names
            " WHERE state <> 'published' GROUP BY state"
        )
        findings.outbox_left += [f"{service} outbox: {r['n']} {r['state']}" for r in rows]


def check_queues(depths: dict[str, int], prefix: str, exchange: str, findings: Findings) -> None:
    """No dead letter, nothing unrouted, no consumer queue left with messages.

    ``depths`` is every queue of the suite's own RabbitMQ node; only the
    namespace's are judged.
    """
    for name, messages in sorted(depths.items()):
        if not messages:
            continue
        if name == f"{exchange}.unrouted":
            findings.unrouted.append(f"{name}: {messages} unrouted")
        elif name.startswith(prefix) and name.endswith(".dlq"):
            findings.dead_letters.append(f"{name}: {messages} dead-lettered")
        elif name.startswith(prefix):
            findings.backlog.append(f"{name}: {messages} not consumed")
