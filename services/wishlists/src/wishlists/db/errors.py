"""Telling PostgreSQL's constraint violations apart, for the races only the database sees."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

FOREIGN_KEY_VIOLATION = "23503"


def violates_foreign_key(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION
