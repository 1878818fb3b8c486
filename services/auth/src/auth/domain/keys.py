"""The life of a signing key: active, then retired but still verifying, then gone.

One key is active and signs new access tokens. Rotation retires it; tokens it
signed live at most one access-token lifetime longer, so it stays published in
the JWKS (and verifies) until then, plus a margin, and then drops out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RETIREMENT_MARGIN = timedelta(seconds=60)
"""Covers a token signed in the instant of rotation, and clocks a little apart."""


@dataclass(frozen=True)
class KeyLife:
    kid: str
    created_at: datetime
    retired_at: datetime | None


def verifies_until(key: KeyLife, access_ttl: timedelta) -> datetime | None:
    """When the key's last tokens have expired; ``None`` while it is active."""
    if key.retired_at is None:
        return None
    return key.retired_at + access_ttl + RETIREMENT_MARGIN


def still_verifies(key: KeyLife, now: datetime, access_ttl: timedelta) -> bool:
    until = verifies_until(key, access_ttl)
    return until is None or now < until
