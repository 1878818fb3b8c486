"""Alembic entry point: the wishlists schema, migrated as the wishlists role."""

from wishlist_shared.db import migrations
from wishlists.db.tables import SCHEMA, metadata
from wishlists.settings import Settings

migrations.run(metadata, SCHEMA, Settings().database_url)
