"""Operator commands for signing keys: ``python -m auth.keys rotate|list``.

Reads the same ``AUTH_*`` environment as the service (database URL, secret
key, access-token lifetime).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta

from auth.db import keys as key_rows
from auth.domain.keys import still_verifies, verifies_until
from auth.keys.material import KeyCipher
from auth.keys.store import KeyStore
from auth.settings import Settings
from wishlist_shared.db import engine as db


async def _run(command: str, settings: Settings) -> None:
    engine = db.create_engine(settings.database_url, "auth", pool_size=1)
    sessions = db.session_factory(engine)
    try:
        if command == "rotate":
            store = KeyStore(
                sessions,
                KeyCipher(settings.secret_key),
                access_ttl_seconds=settings.access_token_ttl_seconds,
                cache_seconds=settings.key_cache_seconds,
            )
            new, retired = await store.rotate()
            print(f"active key: {new}")
            if retired:
                print(f"retired key: {retired} (verifies until its last tokens expire)")
            return
        ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        now = datetime.now(UTC)
        async with sessions() as session:
            stored = await key_rows.all_keys(session)
        for key in stored:
            until = verifies_until(key.life, ttl)
            state = (
                "active"
                if until is None
                else f"retired, verifies until {until.isoformat()}"
                if still_verifies(key.life, now, ttl)
                else "expired"
            )
            print(f"{key.life.kid}  created {key.life.created_at.isoformat()}  {state}")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m auth.keys", description=__doc__)
    parser.add_argument(
        "command",
        choices=["rotate", "list"],
        help="rotate: add a new active key and retire the current one; list: show the keys",
    )
    args = parser.parse_args(argv)
    asyncio.run(_run(args.command, Settings()))


if __name__ == "__main__":
    main(sys.argv[1:])
