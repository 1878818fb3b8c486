"""Every query behind a list endpoint or an access check is served by an index.

The tables get a few thousand rows spread over many users, so that the
planner prices a scan of everything above a lookup. Sequential scans and
sorts are priced out of reach on top: a plan that still holds one, or an
index read from end to end without a condition, shows a query that no index
serves, the row-level security policies' subqueries included (each query
runs for a user).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wishlists.db import Query, scope
from wishlists.db import groups as group_rows
from wishlists.db import items as item_rows
from wishlists.db import reservations as reservation_rows
from wishlists.db import shares as share_rows
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain.pagination import Cursor, PageRequest

if TYPE_CHECKING:
    from conftest import Seed

ME = uuid.uuid4()
SOME_LIST = uuid.uuid4()
LINK = b"\x01" * 32
AFTER = PageRequest(limit=50, after=Cursor(datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4()))

# Each query, and the index named for it in ``wishlists.db.tables``.
QUERIES: dict[str, tuple[Callable[[], Query], str]] = {
    "own lists, first page": (
        lambda: wishlist_rows.own_page_query(ME, PageRequest()),
        "ix_wishlists_owner_page",
    ),
    "own lists, next page": (
        lambda: wishlist_rows.own_page_query(ME, AFTER),
        "ix_wishlists_owner_page",
    ),
    "shared with me": (
        lambda: wishlist_rows.shared_page_query(ME, AFTER),
        "ix_shares_viewer_page",
    ),
    "a list and the caller's role": (
        lambda: wishlist_rows.sighting_query(SOME_LIST, ME),
        "ix_shares_wishlist_viewer",
    ),
    "a list by its link": (
        lambda: wishlist_rows.by_link_query(LINK),
        "ux_wishlists_link_token_hash",
    ),
    "items of a list": (lambda: item_rows.of_wishlist_query(SOME_LIST), "ix_items_wishlist"),
    "reservation tallies of a list": (
        lambda: reservation_rows.tallies_query(SOME_LIST, ME),
        "ix_reservations_wishlist",
    ),
    "my reservations": (
        lambda: reservation_rows.page_query(ME, AFTER),
        "ix_reservations_reserver_page",
    ),
    "shares of a list": (
        lambda: share_rows.page_query(SOME_LIST, AFTER),
        "ix_shares_wishlist_page",
    ),
    "my groups": (lambda: group_rows.page_query(ME, AFTER), "ix_group_members_user_page"),
}


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def _plan(session: AsyncSession, query: Query) -> dict[str, Any]:
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await session.execute(text("SET LOCAL enable_sort = off"))
    explained = await session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    document = explained if isinstance(explained, list) else json.loads(str(explained))
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


async def _populate(seed: Seed, users: int = 200, lists: int = 1000) -> None:
    """Users with lists, items, viewers and reservations, as in a running system."""
    people = [uuid.uuid4() for _ in range(users)] + [ME]
    admin = seed.admin
    await admin.executemany(
        "INSERT INTO wishlists.users (id, email, display_name, profile_at)"
        " VALUES ($1, $2, 'Someone', now())",
        [(p, f"{p.hex}@example.com") for p in people],
    )
    owned = [(uuid.uuid4(), people[n % len(people)], n) for n in range(lists)] + [
        (SOME_LIST, ME, lists)
    ]
    await admin.executemany(
        "INSERT INTO wishlists.wishlists (id, owner_id, title, link_token_hash, created_at,"
        " updated_at) VALUES ($1, $2, 'List', $3, now() - $4 * interval '1 minute', now())",
        [(w, o, w.bytes * 2 if n % 10 == 0 else None, n) for w, o, n in owned],
    )
    items = [(uuid.uuid4(), w, o, n) for w, o, n in owned for n in range(3)]
    await admin.executemany(
        "INSERT INTO wishlists.items (id, wishlist_id, owner_id, title, quantity, priority,"
        " created_at) VALUES ($1, $2, $3, 'Item', 5, 3, now() - $4 * interval '1 second')",
        items,
    )
    shares = [
        (uuid.uuid4(), w, o, people[(n + k + 1) % len(people)])
        for w, o, n in owned
        for k in range(2)
        if people[(n + k + 1) % len(people)] != o
    ]
    await admin.executemany(
        "INSERT INTO wishlists.shares (id, wishlist_id, owner_id, viewer_id, via, activated_at)"
        " VALUES ($1, $2, $3, $4, 'link', now())",
        shares,
    )
    viewers_of = {}
    for _, w, _, v in shares:
        viewers_of.setdefault(w, v)
    await admin.executemany(
        "INSERT INTO wishlists.reservations (id, item_id, wishlist_id, reserver_id, quantity)"
        " VALUES ($1, $2, $3, $4, 1)",
        [(uuid.uuid4(), i, w, viewers_of[w]) for i, w, _, _ in items if w in viewers_of],
    )
    groups = [(uuid.uuid4(), people[n % len(people)], n) for n in range(300)]
    await admin.executemany(
        "INSERT INTO wishlists.groups (id, owner_id, name) VALUES ($1, $2, 'Group')",
        [(g, o) for g, o, _ in groups],
    )
    await admin.executemany(
        "INSERT INTO wishlists.group_members (id, group_id, group_owner_id, user_id, role,"
        " joined_at) VALUES ($1, $2, $3, $4, $5, now() - $6 * interval '1 minute')",
        [
            (uuid.uuid4(), g, o, m, "owner" if m == o else "member", n)
            for g, o, n in groups
            for m in {o, people[(n + 7) % len(people)], people[(n + 13) % len(people)]}
        ],
    )
    await admin.execute("ANALYZE")


@pytest.mark.parametrize("name", list(QUERIES))
async def test_the_query_is_served_by_indexes(
    name: str, sessions: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    await _populate(seed)
    async with sessions() as session, scope.for_link(session, LINK, ME):
        build, index = QUERIES[name]
        plan = await _plan(session, build())
    nodes = _nodes(plan)
    kinds = [node["Node Type"] for node in nodes]
    assert "Seq Scan" not in kinds, json.dumps(plan, indent=1)
    # An index read from end to end is a sequential scan in disguise: each
    # must look rows up by a condition.
    for node in nodes:
        if node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
            assert "Index Cond" in node, json.dumps(plan, indent=1)
    assert index in {node.get("Index Name") for node in nodes}, json.dumps(plan, indent=1)
    if name not in ("reservation tallies of a list", "a list and the caller's role"):
        # Pages come in index order; a sort would read every row of the caller first.
        assert "Sort" not in kinds, json.dumps(plan, indent=1)
