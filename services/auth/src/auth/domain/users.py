"""Users: the canonical form of an email address and the bounds of each field."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

import email_validator

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MIN_LENGTH = 1
EMAIL_MAX_LENGTH = 254


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime


def canonical_email(raw: str) -> str:
    """The one spelling an address is stored and looked up under.

    Register and login both go through here, so ``" Alice@Example.com"`` and
    ``"alice@example.com"`` are the same account.
    """
    return unicodedata.normalize("NFC", raw.strip()).lower()


def valid_display_name(name: str) -> str:
    """The name as given; ``ValueError`` for a control character.

    PostgreSQL text cannot hold NUL, and a line break in a name would break
    the lines it is shown on, mail subjects included.
    """
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("must not contain control characters such as line breaks")
    return name


def valid_email(raw: str) -> str:
    """The canonical form of an address fit to register; ``ValueError`` otherwise."""
    email = canonical_email(raw)
    try:
        # No DNS lookups on a request's path; `.test` addresses (RFC 2606) are
        # accepted so that test and staging setups can register freely.
        email_validator.validate_email(email, check_deliverability=False, test_environment=True)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return email
