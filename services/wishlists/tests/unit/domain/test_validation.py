"""Input rules: web URLs, prices and currencies, share addresses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wishlists.domain.currencies import MINOR_UNITS
from wishlists.domain.errors import FieldError
from wishlists.domain.validation import (
    canonical_email,
    currency_code,
    format_price,
    price_amount,
    price_problems,
    share_email,
    web_url,
)


@pytest.mark.parametrize(
    "url",
    ["https://shop.example/item?id=1#top", "http://localhost:8080/x", "HTTPS://EXAMPLE.COM"],
)
def test_http_and_https_urls_are_kept_as_given(url: str) -> None:
    assert web_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.com/file",
        "mailto:a@example.com",
        "//example.com/no-scheme",
        "https://",
        "https:///path-only",
        "https://exa mple.com",
        "https://example.com:99999/",
        "https://example.com/\x00",
        "",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_anything_but_an_absolute_web_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        web_url(url)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("0", Decimal("0")), ("19.99", Decimal("19.99")), ("19.90", Decimal("19.90")), ("1000", 1000)],
)
def test_prices_are_plain_non_negative_decimals(text: str, amount: Decimal) -> None:
    assert price_amount(text) == amount
    assert format_price(price_amount(text)) == text


@pytest.mark.parametrize(
    "text", ["-1", "+1", "1e3", "1,5", "01.5", ".5", "5.", "NaN", "Infinity", "", "1 000", "1" * 13]
)
def test_other_spellings_of_a_price_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        price_amount(text)


def test_currencies_are_iso_4217_codes_in_capitals() -> None:
    assert currency_code("eur") == "EUR"
    assert currency_code(" JPY ") == "JPY"
    for code in ("EURO", "E1R", "XAU", "XTS", "ABC", ""):
        with pytest.raises(ValueError, match="ISO 4217"):
            currency_code(code)
    assert len(MINOR_UNITS) > 150
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)


def test_a_price_needs_a_currency_and_fits_its_minor_units() -> None:
    assert price_problems(None, None) == []
    assert price_problems(None, "EUR") == []
    assert price_problems(Decimal("1.99"), "EUR") == []
    assert price_problems(Decimal("1.999"), "KWD") == []
    assert price_problems(Decimal("5"), None) == [
        FieldError("body.currency", "is required when a price is given")
    ]
    (problem,) = price_problems(Decimal("100.5"), "JPY")
    assert problem.field == "body.price"


def test_share_addresses_take_the_form_auth_stores() -> None:
    assert share_email("  Kim@Example.COM ") == "kim@example.com"
    assert canonical_email("Kim@Example.com") == "kim@example.com"
    for bad in (
        "kim",
        "kim@",
        "@example.com",
        "kim@example",
        "a b@example.com",
        "x" * 250 + "@e.co",
        # Each of these would let an invitation reach a second mailbox, or none.
        "root,victim@example.com",
        "root;victim@example.com",
        "root@example.com,victim@example.com",
        '"root victim"@example.com',
        "root@example.com\r\nBcc: victim@example.com",
        "root@[127.0.0.1]",
    ):
        with pytest.raises(ValueError, match="email"):
            share_email(bad)


def test_share_addresses_accept_what_auth_lets_register() -> None:
    for good in ("kim.o'hara+gifts@example.com", "ana@sub.example.co.uk", "t@wishes.test"):
        assert share_email(good) == good
