"""Loads the project's test fixture layer for every test directory."""

# pytest's importlib mode would otherwise make the top-level folder gateway/
# (which holds tests, not code) a namespace package named "gateway", hiding
# the real one in gateway/src. Importing the real package first prevents it.
import gateway  # noqa: F401

pytest_plugins = ["wishlist_shared.testing.plugin", "wishlist_shared.testing.parallel"]
