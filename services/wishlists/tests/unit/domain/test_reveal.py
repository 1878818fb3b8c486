"""When the owner may reveal: on or after the occasion, or earlier by confirming."""

from __future__ import annotations

from datetime import date

import pytest

from wishlists.domain.errors import RevealBeforeOccasion
from wishlists.domain.reveal import check_reveal

TODAY = date(2026, 12, 24)


@pytest.mark.parametrize("occasion", [date(2026, 12, 24), date(2026, 12, 1), date(2020, 1, 1)])
def test_on_or_after_the_day_no_confirmation_is_needed(occasion: date) -> None:
    check_reveal(occasion, TODAY, early=False)


@pytest.mark.parametrize("occasion", [date(2026, 12, 25), None])
def test_before_the_day_or_without_one_the_owner_must_confirm(occasion: date | None) -> None:
    with pytest.raises(RevealBeforeOccasion) as refused:
        check_reveal(occasion, TODAY, early=False)
    assert "early" in str(refused.value)
    check_reveal(occasion, TODAY, early=True)
