"""The wishlists service's tables, the transaction scopes that row-level security
reads, and one query module per kind of thing."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from sqlalchemy import BindParameter, Select

Query: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns: the query builders' return type (tests EXPLAIN them)."""
Id: TypeAlias = uuid.UUID | BindParameter[Any]
"""An id, or a parameter standing for one in a statement built once (``bindparam``)."""
