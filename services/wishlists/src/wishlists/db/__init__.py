"""The wishlists service's tables, the transaction scopes that row-level security
reads, and one query module per kind of thing."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Select

Query: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns: the query builders' return type (tests EXPLAIN them)."""
