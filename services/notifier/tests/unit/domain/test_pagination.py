"""Cursors: opaque, round-trip, and refused when made up."""

from __future__ import annotations

import pytest

from notifier.domain.errors import InvalidCursor
from notifier.domain.pagination import Cursor


@pytest.mark.parametrize("direction", ["newest_first", "oldest_first"])
def test_a_cursor_round_trips_with_its_direction(direction: str) -> None:
    cursor = Cursor(12345, direction)  # type: ignore[arg-type]
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "text",
    ["", "nope", "W1wiZFwiLDFd", "WzIsImQiLDFd", "WzEsIngiLDFd", "WzEsImQiLCIxIl0", "x" * 101],
)
def test_a_made_up_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)
