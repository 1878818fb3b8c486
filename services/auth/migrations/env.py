"""Alembic entry point: the auth schema, migrated as the auth role."""

from auth.db.tables import SCHEMA, metadata
from auth.settings import Settings
from wishlist_shared.db import migrations

migrations.run(metadata, SCHEMA, Settings().database_url)
