"""Argon2id hashes: the right password passes, anything else fails, unknown accounts too."""

from __future__ import annotations

import time

import pytest
from passlib.context import CryptContext

from auth.domain.passwords import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


def test_hashes_are_argon2id_and_salted(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("same password"), hasher.hash("same password")
    assert first.startswith("$argon2id$")
    assert first != second


def test_the_right_password_passes_and_a_wrong_one_fails(hasher: PasswordHasher) -> None:
    stored = hasher.hash("right password")
    assert hasher.check("right password", stored).ok
    assert not hasher.check("wrong password", stored).ok
    assert not hasher.check("Right password", stored).ok


def test_no_stored_hash_never_passes(hasher: PasswordHasher) -> None:
    assert not hasher.check("anything at all", None).ok


def test_an_unknown_account_costs_about_as_much_as_a_wrong_password(
    hasher: PasswordHasher,
) -> None:
    stored = hasher.hash("right password")

    def cost(stored_hash: str | None) -> float:
        start = time.perf_counter()
        hasher.check("guess", stored_hash)
        return time.perf_counter() - start

    # Minimum of a few runs: scheduling noise only ever adds time.
    unknown = min(cost(None) for _ in range(3))
    wrong = min(cost(stored) for _ in range(3))
    assert 0.5 < unknown / wrong < 2.0


def test_a_hash_with_weaker_parameters_is_upgraded_on_success(hasher: PasswordHasher) -> None:
    weak = CryptContext(schemes=["argon2"], argon2__type="ID", argon2__rounds=1).hash("pw")
    verdict = hasher.check("pw", weak)
    assert verdict.ok
    assert verdict.new_hash is not None
    assert hasher.check("pw", verdict.new_hash).new_hash is None
