"""Password-reset tokens: strong, kept only as a hash, and dead after their time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from auth.domain.password_resets import hash_reset_token, issue_reset

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_reset_tokens_are_long_random_and_distinct() -> None:
    tokens = {issue_reset(NOW, 1800).token for _ in range(100)}
    assert len(tokens) == 100
    # 32 random bytes, URL-safe: they go into a link.
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_only_the_sha256_of_a_token_is_kept() -> None:
    issued = issue_reset(NOW, 1800)
    assert issued.token_hash == hashlib.sha256(issued.token.encode()).digest()
    assert issued.token_hash == hash_reset_token(issued.token)
    assert issued.token.encode() not in issued.token_hash


def test_a_token_expires_its_lifetime_after_issue() -> None:
    assert issue_reset(NOW, 1800).expires_at == NOW + timedelta(minutes=30)
    assert issue_reset(NOW, 60).expires_at == NOW + timedelta(minutes=1)


def test_any_string_hashes_so_a_malformed_token_simply_matches_nothing() -> None:
    for presented in ("", "not a token", "é" * 1024):
        assert len(hash_reset_token(presented)) == 32
