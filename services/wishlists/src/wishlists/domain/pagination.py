"""Keyset pagination: pages ordered by (timestamp, id), cursors that are opaque to clients.

A cursor holds the sort key of the last row of the page it came with; the
next page starts strictly after it. Rows inserted meanwhile land before or
after that key but never shift it, so pages neither repeat nor skip rows.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from wishlists.domain.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_VERSION = 1
_MAX_CURSOR_LENGTH = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """The sort key of the last row a client has seen."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([_VERSION, self.at.isoformat(), str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor ``text`` encodes; :class:`InvalidCursor` for anything else."""
        if not text or len(text) > _MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, at, ident = json.loads(raw)
            if version != _VERSION:
                raise InvalidCursor()
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise InvalidCursor()
            return cls(moment, uuid.UUID(ident))
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidCursor() from exc


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to know whether another page follows."""
        return self.limit + 1


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], request: PageRequest, key: Callable[[T], Cursor]) -> Page[T]:
    """The page of ``rows`` (read with ``request.fetch``) and the cursor to the next one."""
    if len(rows) <= request.limit:
        return Page(list(rows), None)
    shown = list(rows[: request.limit])
    return Page(shown, key(shown[-1]).encode())
