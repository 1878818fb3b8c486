"""Auth service: users, credentials, sessions and signing keys."""
