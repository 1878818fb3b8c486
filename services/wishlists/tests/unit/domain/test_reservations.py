"""Reservation arithmetic: what is left, what is shown, when a request fits."""

from __future__ import annotations

import pytest

from wishlists.domain.errors import NotEnoughLeft
from wishlists.domain.reservations import check_fits, left, shown_reserved


@pytest.mark.parametrize(
    ("quantity", "reserved", "free"), [(3, 0, 3), (3, 2, 1), (3, 3, 0), (1, 3, 0)]
)
def test_what_is_left_is_never_negative(quantity: int, reserved: int, free: int) -> None:
    assert left(quantity, reserved) == free


def test_shown_reserved_is_capped_by_the_quantity() -> None:
    assert shown_reserved(2, 5) == 2
    assert shown_reserved(5, 2) == 2
    assert shown_reserved(5, 0) == 0


def test_a_request_fits_exactly_into_what_is_left() -> None:
    check_fits(quantity=5, reserved=3, wanted=2)
    with pytest.raises(NotEnoughLeft) as refused:
        check_fits(quantity=5, reserved=3, wanted=3)
    assert refused.value.left == 2
    assert "2 units are still free" in str(refused.value)


def test_nothing_fits_once_the_quantity_was_lowered_below_the_reservations() -> None:
    with pytest.raises(NotEnoughLeft, match="0 units"):
        check_fits(quantity=1, reserved=3, wanted=1)


def test_one_free_unit_is_said_in_the_singular() -> None:
    with pytest.raises(NotEnoughLeft, match="1 unit is still free"):
        check_fits(quantity=2, reserved=1, wanted=2)
