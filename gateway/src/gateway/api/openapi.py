"""One OpenAPI document for the whole public API, merged from the services' own.

Each service serves its OpenAPI at ``/openapi.json``; the gateway fetches them
(short timeout, cached for a while), keeps the paths it actually routes to that
service, and merges them with its own routes. A service that cannot be fetched
is left out until it can be: the document is always served.

Merging components: a name defined identically by two documents is kept once;
a name defined differently is a real conflict, and the later document's
component is renamed ``<Service><Name>`` (``WishlistsUser``) with every
reference to it in that document rewritten. "Identically" is judged after
renaming, so a schema that refers to a renamed one is itself renamed.

Gathered paths (``routing.GATHERED``, the data export): the gateway answers
them itself from one part per service, so the services' own operations on
them are not documented; instead the gateway's 200 schema becomes ``allOf``
its own envelope and each service's 200 schema for that path.

Security: the gateway decides which routes need a token, so the document says
so from the gateway's routing table: public operations get ``security: []``,
all others the bearer scheme.

Errors: the services' FastAPI documents describe a 422 as FastAPI's default
``HTTPValidationError`` in ``application/json``, but every process answers
errors as RFC 9457 problem details (``application/problem+json``). The merged
document says what is really sent: each 422 is a ``ValidationProblem``, and
every operation has a ``default`` response, a ``Problem`` (401 from the
gateway, 404, 409, 429, 502 ...).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.api import routing
from wishlist_shared import problems

log = logging.getLogger(__name__)

Document = dict[str, Any]

BEARER_SCHEME = "bearerAuth"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TITLE = "Wishlist platform API"
VERSION = "1"
# A service that could not be fetched is asked again after this long (or the
# cache time, if shorter): soon enough to show up again quickly, rarely enough
# not to slow every docs request while it is down.
RETRY_AFTER_FAILURE_SECONDS = 5.0


# --- merging ---------------------------------------------------------------


def _pointer(section: str, name: str) -> str:
    return f"#/components/{section}/{name}"


def _rewrite_refs(value: Any, pointers: Mapping[str, str]) -> Any:
    """``value`` with every string that is exactly a renamed component's pointer replaced.

    Matching whole strings, not just ``$ref`` values, also covers the other
    place pointers appear (discriminator mappings).
    """
    if not pointers:
        return value
    if isinstance(value, dict):
        return {k: _rewrite_refs(v, pointers) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v, pointers) for v in value]
    if isinstance(value, str):
        return pointers.get(value, value)
    return value


def _fresh_name(service: str, name: str, taken: set[str]) -> str:
    base = service[:1].upper() + service[1:] + name
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    return candidate


def _renames(
    merged: Mapping[str, Mapping[str, Any]],
    incoming: Mapping[str, Mapping[str, Any]],
    service: str,
) -> dict[str, str]:
    """Pointer renames that keep ``incoming``'s components from clashing with ``merged``'s."""
    renames: dict[str, str] = {}
    taken: dict[str, set[str]] = {}
    for source in (merged, incoming):
        for section, items in source.items():
            taken.setdefault(section, set()).update(items)
    changed = True
    # Renaming one component can make another that refers to it differ: repeat
    # until nothing new clashes. Each round renames at least one more
    # component or stops, so this ends.
    while changed:
        changed = False
        for section, items in incoming.items():
            existing = merged.get(section, {})
            for name, value in items.items():
                pointer = _pointer(section, name)
                if pointer in renames or name not in existing:
                    continue
                if _rewrite_refs(value, renames) == existing[name]:
                    continue
                new_name = _fresh_name(service, name, taken[section])
                taken[section].add(new_name)
                renames[pointer] = _pointer(section, new_name)
                changed = True
                log.info("openapi: %s's component %s renamed %s", service, pointer, new_name)
    return renames


def _each_operation(item: Any, change: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Any:
    """The path item with ``change(method, operation)`` applied to each of its operations."""
    if not isinstance(item, dict):
        return item
    item = dict(item)
    for method in HTTP_METHODS:
        operation = item.get(method)
        if isinstance(operation, dict):
            item[method] = change(method, operation)
    return item


def _secure(path: str, item: Any, *, own: bool) -> Any:
    """The path item with each operation's security as the gateway enforces it."""

    def secured(method: str, operation: dict[str, Any]) -> dict[str, Any]:
        if own:
            # The gateway's own routes declare their security through FastAPI
            # security dependencies: an operation without any is public.
            public = "security" not in operation
        else:
            public = routing.public_route(method.upper(), path) is not None
        return {**operation, "security": [] if public else [{BEARER_SCHEME: []}]}

    return _each_operation(item, secured)


PROBLEM = "Problem"
VALIDATION_PROBLEM = "ValidationProblem"


def _problem_response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {problems.MEDIA_TYPE: {"schema": {"$ref": _pointer("schemas", schema)}}},
    }


def _with_problems(item: Any) -> Any:
    """The path item with its errors documented as the problem details they are."""

    def documented(_: str, operation: dict[str, Any]) -> dict[str, Any]:
        responses = dict(operation.get("responses") or {})
        if "422" in responses:
            responses["422"] = _problem_response("Validation failed", VALIDATION_PROBLEM)
        responses["default"] = _problem_response("Error", PROBLEM)
        return {**operation, "responses": responses}

    return _each_operation(item, documented)


def _json_200(item: Any) -> Any:
    """The JSON schema of a path item's GET 200 answer, or None."""
    try:
        schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    except (KeyError, TypeError):
        return None
    return schema


def _gathered(item: Any, parts: list[Any]) -> Any:
    """The gateway's own GET of a gathered path, answering its envelope and every part."""
    own = _json_200(item)
    if own is None or not parts:
        return item
    item = copy.deepcopy(item)
    item["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "allOf": [own, *parts]
    }
    return item


@dataclass(frozen=True)
class Part:
    """One document to merge: the gateway's own (``service`` None) or a service's."""

    service: str | None
    document: Document


def merge(parts: Iterable[Part]) -> Document:
    """The public API's document from ``parts``; the first to define a path keeps it."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": {
            BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    }
    components["schemas"] = {
        PROBLEM: copy.deepcopy(problems.PROBLEM_SCHEMA),
        VALIDATION_PROBLEM: copy.deepcopy(problems.VALIDATION_PROBLEM_SCHEMA),
    }
    tags: dict[str, Any] = {}
    gathered: dict[str, list[Any]] = {}
    for part in parts:
        name = part.service or "gateway"
        doc = part.document
        incoming = doc.get("components")
        incoming = incoming if isinstance(incoming, dict) else {}
        incoming = {s: items for s, items in incoming.items() if isinstance(items, dict)}
        renames = _renames(components, incoming, name)
        for section, items in incoming.items():
            target = components.setdefault(section, {})
            for component, value in items.items():
                new_pointer = renames.get(_pointer(section, component))
                key = new_pointer.rsplit("/", 1)[1] if new_pointer else component
                target.setdefault(key, _rewrite_refs(value, renames))
        _take_paths(part, renames, paths, gathered)
        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                tags.setdefault(tag["name"], tag)
    for path, schemas in gathered.items():
        if path in paths:
            paths[path] = _gathered(paths[path], schemas)
    document: Document = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": dict(sorted(paths.items())),
        "components": components,
        "security": [{BEARER_SCHEME: []}],
    }
    if tags:
        document["tags"] = list(tags.values())
    return document


def _take_paths(
    part: Part, renames: Mapping[str, str], paths: dict[str, Any], gathered: dict[str, list[Any]]
) -> None:
    """Adds ``part``'s paths to ``paths``, and its parts of gathered paths to ``gathered``."""
    name = part.service or "gateway"
    raw_paths = part.document.get("paths")
    for path, item in (raw_paths if isinstance(raw_paths, dict) else {}).items():
        if part.service is not None and part.service in routing.gathered_from(path):
            schema = _json_200(item)
            if schema is not None:
                gathered.setdefault(path, []).append(_rewrite_refs(schema, renames))
            continue
        if not _belongs(path, part.service):
            continue
        if path in paths:
            log.warning("openapi: %s also documents %s; the first one is kept", name, path)
            continue
        secured = _secure(path, _rewrite_refs(item, renames), own=part.service is None)
        paths[path] = _with_problems(secured)


def _belongs(path: str, service: str | None) -> bool:
    """Whether the gateway serves ``path`` from this part's owner."""
    if not path.startswith(routing.API_PREFIX + "/"):
        return False
    # A service documenting a path the gateway routes elsewhere would
    # document something clients cannot reach through the gateway.
    return routing.service_for(path) == service


# --- fetching --------------------------------------------------------------


@dataclass
class _Cached:
    document: Document | None
    fetched_at: float


class OpenAPIDocument:
    """The merged document, rebuilt from cached service documents on each request."""

    def __init__(
        self,
        services: Mapping[str, str],
        http: httpx.AsyncClient,
        own: Callable[[], Document],
        *,
        cache_seconds: float,
        timeout: float,
    ) -> None:
        self.services = dict(services)
        self.http = http
        self.own = own
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._cache: dict[str, _Cached] = {}
        self._lock = asyncio.Lock()

    def _stale(self, service: str, now: float) -> bool:
        cached = self._cache.get(service)
        if cached is None:
            return True
        max_age = self.cache_seconds
        if cached.document is None:
            max_age = min(max_age, RETRY_AFTER_FAILURE_SECONDS)
        return now - cached.fetched_at >= max_age

    async def _fetch(self, service: str) -> Document | None:
        url = self.services[service] + "/openapi.json"
        try:
            response = await self.http.get(url, timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("openapi: %s left out, %s failed: %r", service, url, exc)
            return None
        if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
            log.warning("openapi: %s left out, %s is not an OpenAPI document", service, url)
            return None
        return document

    async def _refresh(self) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited.
            stale = [s for s in self.services if self._stale(s, time.monotonic())]
            if not stale:
                return
            documents = await asyncio.gather(*(self._fetch(s) for s in stale))
            now = time.monotonic()
            for service, document in zip(stale, documents, strict=True):
                self._cache[service] = _Cached(document, now)

    async def document(self) -> Document:
        now = time.monotonic()
        if any(self._stale(s, now) for s in self.services):
            await self._refresh()
        parts = [Part(None, self.own())]
        for service in self.services:
            cached = self._cache.get(service)
            if cached is not None and cached.document is not None:
                # merge() may keep a document's own objects in its result: a
                # copy keeps the cache safe from whatever happens to the result.
                parts.append(Part(service, copy.deepcopy(cached.document)))
        return merge(parts)
