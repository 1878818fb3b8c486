"""Alembic entry point: the notifier schema, migrated as the notifier role."""

from notifier.db.tables import SCHEMA, metadata
from notifier.settings import Settings
from wishlist_shared.db import migrations

migrations.run(metadata, SCHEMA, Settings().database_url)
