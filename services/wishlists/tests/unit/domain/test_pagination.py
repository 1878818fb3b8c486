"""Cursors: opaque to clients, exact about where the next page starts."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from wishlists.domain.errors import InvalidCursor
from wishlists.domain.pagination import Cursor, PageRequest, page_of

AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_a_cursor_survives_its_round_trip_to_the_microsecond() -> None:
    cursor = Cursor(AT, uuid.uuid4())
    encoded = cursor.encode()
    assert "=" not in encoded
    assert Cursor.decode(encoded) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'[2, "2026-01-01T00:00:00+00:00", "x"]').decode(),
        base64.urlsafe_b64encode(b'[1, "2026-01-01T00:00:00", "' + b"0" * 32 + b'"]').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "A" * 500,
    ],
)
def test_anything_else_is_an_invalid_cursor(text: str) -> None:
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)


def test_a_page_reads_one_row_more_to_know_whether_another_follows() -> None:
    request = PageRequest(limit=2)
    assert request.fetch == 3
    rows = [(AT, uuid.uuid4()) for _ in range(3)]
    page = page_of(rows, request, lambda r: Cursor(*r))
    assert page.items == rows[:2]
    assert page.next_cursor == Cursor(*rows[1]).encode()
    last = page_of(rows[:2], request, lambda r: Cursor(*r))
    assert (last.items, last.next_cursor) == (rows[:2], None)
