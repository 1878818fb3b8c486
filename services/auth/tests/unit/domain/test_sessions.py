"""Refresh-token rotation and reuse detection, and the claims of an access token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from auth.domain.sessions import (
    RefreshTokenState,
    RefreshVerdict,
    access_claims,
    hash_refresh_token,
    judge_refresh,
    new_refresh_token,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def state(
    *, spent: bool = False, expires_in: timedelta = timedelta(days=1), revoked: bool = False
) -> RefreshTokenState:
    return RefreshTokenState(
        session_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        spent=spent,
        expires_at=NOW + expires_in,
        session_revoked=revoked,
    )


def test_refresh_tokens_are_long_random_and_distinct() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 43 for t in tokens)


def test_only_a_fixed_size_hash_of_a_refresh_token_is_kept() -> None:
    token = new_refresh_token()
    digest = hash_refresh_token(token)
    assert len(digest) == 32
    assert token.encode() not in digest
    assert hash_refresh_token(token) == digest


def test_a_live_unspent_token_rotates() -> None:
    assert judge_refresh(state(), NOW) is RefreshVerdict.ROTATE


def test_a_spent_token_is_a_reuse() -> None:
    assert judge_refresh(state(spent=True), NOW) is RefreshVerdict.REUSED


def test_a_spent_token_replayed_after_expiry_is_still_a_reuse() -> None:
    verdict = judge_refresh(state(spent=True, expires_in=-timedelta(days=1)), NOW)
    assert verdict is RefreshVerdict.REUSED


def test_an_expired_token_is_refused_without_revoking() -> None:
    assert judge_refresh(state(expires_in=timedelta(0)), NOW) is RefreshVerdict.EXPIRED


@pytest.mark.parametrize("spent", [True, False])
def test_any_token_of_a_revoked_session_is_refused(spent: bool) -> None:
    assert judge_refresh(state(spent=spent, revoked=True), NOW) is RefreshVerdict.REVOKED


def test_access_claims_carry_the_session_and_a_fresh_id() -> None:
    user, session = uuid.uuid4(), uuid.uuid4()
    make = lambda: access_claims(  # noqa: E731 - two identical calls
        user_id=user, session_id=session, issuer="iss", audience="aud", now=1000, ttl_seconds=900
    )
    claims, again = make(), make()
    assert claims["sub"] == str(user)
    assert claims["sid"] == str(session)
    assert (claims["iss"], claims["aud"]) == ("iss", "aud")
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (1000, 1000, 1900)
    assert claims["jti"] != again["jti"]
