"""Share-link tokens: unguessable, stored only as a hash."""

from __future__ import annotations

from wishlists.domain.links import MAX_TOKEN_LENGTH, new_token, plausible, token_hash


def test_tokens_are_long_random_and_differ_every_time() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 43 and plausible(t) for t in tokens)


def test_the_stored_hash_is_fixed_size_and_not_the_token() -> None:
    token = new_token()
    assert token_hash(token) == token_hash(token)
    assert len(token_hash(token)) == 32
    assert token.encode() not in token_hash(token)


def test_overlong_or_empty_tokens_are_not_even_looked_up() -> None:
    assert not plausible("")
    assert not plausible("x" * (MAX_TOKEN_LENGTH + 1))
