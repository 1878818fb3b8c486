"""Keyset pagination on ``seq``, with cursors that are opaque to clients.

A cursor holds the ``seq`` of the last notification of its page and the
direction of the walk: newest first for the plain list, oldest first after a
given notification (a socket replaying what it missed). The next page starts
strictly beyond it, so rows inserted meanwhile never make pages repeat or skip.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Literal

from notifier.domain.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_VERSION = 1
_MAX_CURSOR_LENGTH = 100

Direction = Literal["newest_first", "oldest_first"]
_CODES: dict[Direction, str] = {"newest_first": "d", "oldest_first": "a"}


@dataclass(frozen=True)
class Cursor:
    seq: int
    direction: Direction

    def encode(self) -> str:
        raw = json.dumps([_VERSION, _CODES[self.direction], self.seq], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor ``text`` encodes; :class:`InvalidCursor` for anything else."""
        if not text or len(text) > _MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, code, seq = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidCursor() from exc
        directions = {c: d for d, c in _CODES.items()}
        if version != _VERSION or code not in directions or type(seq) is not int or seq < 0:
            raise InvalidCursor()
        return cls(seq, directions[code])
