"""A link's preview: from the cache shared by every replica, or fetched and read now.

Previews are cached by normalised URL for everyone: what a public page says
about a product is the same whoever asks, and a burst of users pasting the
same link costs the shop one request. Failures are not cached: most are
passing (a timeout, the shop's 503), and a cached one would make the user's
retry pointless; the per-user rate limit already bounds how often a failing
link is tried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wishlist_shared.ratelimit import FixedWindow
from wishlists.domain.previews import Preview, read_page
from wishlists.previews import guard
from wishlists.previews.fetch import FetchLimits, LinkFetcher
from wishlists.settings import Settings

log = logging.getLogger(__name__)


class PreviewCache:
    def __init__(self, redis: Redis, prefix: str, seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}link-preview:"
        self.seconds = seconds

    def _key(self, url: str) -> str:
        # Hashed: URLs are long, and a key should not be anything a user typed.
        return self.prefix + hashlib.sha256(url.encode()).hexdigest()

    async def get(self, url: str) -> Preview | None:
        if not self.seconds:
            return None
        try:
            raw = await self.redis.get(self._key(url))
        except RedisError as exc:
            # Without the cache a preview is slower, not wrong.
            log.warning("link preview cache unavailable: %r", exc)
            return None
        if raw is None:
            return None
        try:
            return Preview(**json.loads(raw))
        except (ValueError, TypeError):
            return None  # written by another version: fetched again

    async def put(self, url: str, preview: Preview) -> None:
        if not self.seconds:
            return
        try:
            await self.redis.set(
                self._key(url), json.dumps(dataclasses.asdict(preview)), ex=self.seconds
            )
        except RedisError as exc:
            log.warning("link preview cache unavailable: %r", exc)


class LinkPreviewer:
    def __init__(
        self, fetcher: LinkFetcher, cache: PreviewCache, requests: FixedWindow, rate_limit: int
    ) -> None:
        self.fetcher = fetcher
        self.cache = cache
        self.requests = requests
        """Per-user counter of preview requests: each may make the server fetch a page."""
        self.rate_limit = rate_limit

    @classmethod
    def create(cls, settings: Settings, redis: Redis) -> LinkPreviewer:
        limits = FetchLimits(
            timeout_seconds=settings.link_preview_timeout_seconds,
            max_bytes=settings.link_preview_max_bytes,
            max_redirects=settings.link_preview_max_redirects,
        )
        prefix = settings.redis_prefix
        return cls(
            LinkFetcher(limits, settings.link_preview_exceptions()),
            PreviewCache(redis, prefix, settings.link_preview_cache_seconds),
            FixedWindow(
                redis, f"{prefix}ratelimit:link-preview:", settings.link_preview_rate_window_seconds
            ),
            settings.link_preview_rate_limit,
        )

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def preview(self, url: str) -> Preview:
        """The preview of ``url``; :class:`UrlNotAllowed` or :class:`LinkUnreadable` if none."""
        target = guard.check_url(url)
        cached = await self.cache.get(target.url)
        if cached is not None:
            return cached
        page = await self.fetcher.fetch(target.url)
        # lxml on up to a MiB of markup: long enough to hold up other requests.
        preview = await asyncio.to_thread(read_page, page.body, url=page.url, charset=page.charset)
        await self.cache.put(target.url, preview)
        return preview
