"""Email addresses: one canonical spelling, and what registration accepts."""

from __future__ import annotations

import pytest

from auth.domain.users import canonical_email, valid_email


def test_canonical_email_strips_and_lowercases() -> None:
    assert canonical_email("  Alice@Example.COM\n") == "alice@example.com"


def test_canonical_email_is_the_same_for_composed_and_decomposed_unicode() -> None:
    composed = "jos\u00e9@example.com"
    decomposed = "jose\u0301@example.com"
    assert canonical_email(decomposed) == canonical_email(composed)


def test_valid_email_returns_the_canonical_form() -> None:
    assert valid_email(" Bob@Example.org ") == "bob@example.org"


def test_valid_email_accepts_addresses_reserved_for_testing() -> None:
    assert valid_email("carol@example.test") == "carol@example.test"


@pytest.mark.parametrize(
    "raw", ["", "no-at-sign", "two@@example.com", "a@b", "x@localhost", "x@foo.local", "a b@c.com"]
)
def test_valid_email_refuses_what_cannot_be_an_address(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        valid_email(raw)
