"""Signing keys: Ed25519 key material, the key store, and the rotation CLI.

``python -m auth.keys rotate`` adds a new active key; see the service README.
"""
