"""Tables of the notifier schema (its migrations create them)."""

from __future__ import annotations

from sqlalchemy import MetaData

SCHEMA = "notifier"
metadata = MetaData(schema=SCHEMA)
