"""Rules for what a client may write: text bounds, URLs, money, email addresses.

Single-field rules raise ``ValueError`` (pydantic turns that into a 422 that
names the field); rules across fields return :class:`FieldError` lists that
the API raises as :class:`InvalidInput`, the same 422 shape.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from decimal import Decimal

import email_validator

from wishlists.domain.currencies import MINOR_UNITS
from wishlists.domain.errors import FieldError

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
NOTES_MAX_LENGTH = 2000
URL_MAX_LENGTH = 2048
EMAIL_MAX_LENGTH = 254
PRIORITY_MIN, PRIORITY_MAX = 1, 5
DEFAULT_PRIORITY = 3
DEFAULT_QUANTITY = 1

MAX_PRICE_INTEGER_DIGITS = 12
_PRICE = re.compile(r"(?P<int>0|[1-9][0-9]*)(?:\.(?P<frac>[0-9]+))?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_ALLOWED_SCHEMES = frozenset({"http", "https"})


def storable_text(raw: str) -> str:
    """Text as given; ``ValueError`` for a NUL character, which PostgreSQL text cannot hold."""
    if "\x00" in raw:
        raise ValueError("must not contain NUL characters")
    return raw


def web_url(raw: str) -> str:
    """An absolute http(s) URL with a host, as given (trimmed); ``ValueError`` otherwise."""
    url = raw.strip()
    if not url:
        raise ValueError("must not be empty")
    if len(url) > URL_MAX_LENGTH:
        raise ValueError(f"must be at most {URL_MAX_LENGTH} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError("is not a valid URL") from exc
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    return url


def currency_code(raw: str) -> str:
    """An ISO 4217 code in capitals; ``ValueError`` for anything else."""
    code = raw.strip().upper()
    if not _CURRENCY.fullmatch(code) or code not in MINOR_UNITS:
        raise ValueError("must be an ISO 4217 currency code such as EUR or USD")
    return code


def price_amount(raw: str) -> Decimal:
    """A non-negative decimal written as a string (``"19.99"``); ``ValueError`` otherwise.

    Written out plainly: no sign, no exponent, no thousands separators, no
    leading zeros, so that every amount has one spelling.
    """
    text = raw.strip()
    match = _PRICE.fullmatch(text)
    if match is None:
        raise ValueError('must be a non-negative decimal string such as "19.99"')
    if len(match["int"]) > MAX_PRICE_INTEGER_DIGITS:
        raise ValueError(f"must be below 10^{MAX_PRICE_INTEGER_DIGITS}")
    return Decimal(text)


def decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # a parsed finite amount, never NaN or infinity
    return max(0, -exponent)


def price_problems(price: Decimal | None, currency: str | None) -> list[FieldError]:
    """Rules between ``price`` and ``currency``: a price needs a currency, and fits its units.

    A currency without a price is allowed (the owner may add the price later).
    """
    if price is None:
        return []
    if currency is None:
        return [FieldError("body.currency", "is required when a price is given")]
    places = MINOR_UNITS[currency]
    if decimals(price) > places:
        return [FieldError("body.price", f"has more decimal places than {currency} has ({places})")]
    return []


def canonical_email(raw: str) -> str:
    """The spelling auth stores an address under, so a share finds its registration."""
    return unicodedata.normalize("NFC", raw.strip()).lower()


def share_email(raw: str) -> str:
    """One mailbox's address in canonical form; ``ValueError`` otherwise.

    Checked as auth checks a registration: an invitation is mailed to it, so a
    looser rule would let ``root,victim@example.com`` reach a second mailbox.
    """
    email = canonical_email(raw)
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValueError("must be an email address")
    try:
        # No DNS lookups on a request's path; `.test` addresses (RFC 2606) pass,
        # as auth lets them register.
        email_validator.validate_email(email, check_deliverability=False, test_environment=True)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"must be an email address: {exc}") from exc
    return email


def format_price(amount: Decimal | None) -> str | None:
    """An amount as the API writes it: plain digits, the scale it was given with."""
    return None if amount is None else format(amount, "f")
