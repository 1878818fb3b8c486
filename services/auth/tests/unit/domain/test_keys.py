"""A signing key verifies while active and for one access-token lifetime after retiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auth.domain.keys import RETIREMENT_MARGIN, KeyLife, still_verifies, verifies_until

T0 = datetime(2030, 1, 1, tzinfo=UTC)
TTL = timedelta(minutes=15)


def test_an_active_key_verifies_forever() -> None:
    key = KeyLife("k", created_at=T0, retired_at=None)
    assert verifies_until(key, TTL) is None
    assert still_verifies(key, T0 + timedelta(days=3650), TTL)


def test_a_retired_key_verifies_until_its_last_tokens_expired() -> None:
    key = KeyLife("k", created_at=T0, retired_at=T0 + timedelta(days=1))
    end = T0 + timedelta(days=1) + TTL + RETIREMENT_MARGIN
    assert verifies_until(key, TTL) == end
    assert still_verifies(key, end - timedelta(seconds=1), TTL)
    assert not still_verifies(key, end, TTL)
