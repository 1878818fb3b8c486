"""Auth's rules in plain Python: no FastAPI, no database, no network."""
