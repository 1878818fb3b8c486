"""Tables of the wishlists schema (its migrations create them)."""

from __future__ import annotations

from sqlalchemy import MetaData

SCHEMA = "wishlists"
metadata = MetaData(schema=SCHEMA)
