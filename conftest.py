"""Loads the project's test fixture layer for every test directory."""

pytest_plugins = ["wishlist_shared.testing.plugin"]
