"""Creating lists from a file: ``POST /api/v1/wishlists/import``.

Three shapes, told apart by ``Content-Type``:

- ``application/json``, a data export (``GET /api/v1/me/export``): every
  entry of its ``wishlists``, its own content only (titles, dates, items);
- ``application/json``, one list: ``{title, description?, occasion_date?, items?}``;
- ``text/csv``: one item per row under a header row, into a new list named by
  ``?title=``.

Every value is checked as creating the list and its items by hand checks it,
and everything is created in one transaction through the same queries and
events (``item_added`` for each item, told to nobody: a new list has no
viewers), or nothing is.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from wishlist_shared.problems import Problem, ProblemType
from wishlists.api.deps import Claims, DbSession
from wishlists.api.routes import WISHLISTS
from wishlists.api.schemas import (
    ImportResult,
    ItemCreate,
    WishlistCreate,
    WishlistDetailOut,
    WishlistImport,
)
from wishlists.db import items as item_rows
from wishlists.db import locks, scope
from wishlists.db import wishlists as wishlist_rows
from wishlists.domain import imports
from wishlists.domain import validation as v
from wishlists.domain.errors import FieldError, InvalidInput, LimitReached
from wishlists.domain.limits import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_DEPTH,
    MAX_IMPORT_ERRORS,
    MAX_ITEMS_PER_IMPORT,
    MAX_ITEMS_PER_WISHLIST,
    MAX_WISHLISTS_PER_OWNER,
)
from wishlists.domain.model import Item, Wishlist
from wishlists.domain.surprise import Audience, disclose
from wishlists.events import publishing

router = APIRouter(prefix=WISHLISTS, tags=["wishlists"])
M = TypeVar("M", bound=BaseModel)

BODY_TOO_LARGE = ProblemType(413, "body-too-large", "Content Too Large")
UNSUPPORTED_MEDIA_TYPE = ProblemType(415, "unsupported-media-type", "Unsupported Media Type")
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
# A list's or an item's place among those made in one transaction, as a
# timestamp offset: they share the transaction's now(), and pages order by
# (created_at, id), so without it the order given would be lost.
_STEP = dt.timedelta(microseconds=1)

# The import's JSON shape, inline: FastAPI adds to the components only the
# models its routes declare, and this body is read by hand. Its items refer
# to ItemCreate, which POST .../items puts there.
_ONE_LIST = WishlistImport.model_json_schema(ref_template="#/components/schemas/{model}")
_ONE_LIST.pop("$defs", None)
_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        JSON_TYPE: {
            "schema": {
                "oneOf": [
                    _ONE_LIST,
                    {
                        "title": "ExportDocument",
                        "description": "A data export as `GET /api/v1/me/export` gives it; "
                        "only the content of its `wishlists` is read.",
                        "type": "object",
                        "properties": {
                            "format": {"const": imports.EXPORT_FORMAT},
                            "version": {"const": imports.EXPORT_VERSION},
                            "wishlists": {
                                "type": "array",
                                "items": _ONE_LIST,
                            },
                        },
                        "required": ["format", "version", "wishlists"],
                    },
                ]
            }
        },
        CSV_TYPE: {
            "schema": {"type": "string"},
            "example": 'title,url,price,currency,quantity,notes\n"Socks, wool",,12.50,EUR,2,\n',
        },
    },
}


@dataclass(frozen=True)
class _Planned:
    wishlist: WishlistCreate
    items: list[ItemCreate]


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def import_wishlists(
    request: Request,
    claims: Claims,
    db: DbSession,
    title: Annotated[
        str | None, Query(description="Title of the new list; required for CSV.")
    ] = None,
) -> ImportResult:
    """Creates lists with their items from a data export, one list in JSON, or a CSV.

    CSV columns (case-insensitive, header row required): ``title`` (required),
    ``url``, ``price``, ``currency``, ``image_url``, ``quantity``, ``priority``,
    ``notes``. Empty cells take the defaults. All or nothing: 422 naming the list
    index or CSV row and the field (or JSON nested deeper than 16 levels), 409 past
    the limits on lists and items (2,000 items an import), 413 past 1 MiB, 415 for
    anything but JSON or CSV.
    """
    media = _media_type(request)
    body = await _read(request)
    plans = [_csv_plan(body, title)] if media == CSV_TYPE else _json_plans(body)
    created = await _create(db, claims.subject, plans)
    return ImportResult(
        wishlists=[
            WishlistDetailOut.of_views(w, [disclose(item, Audience.OWNER) for item in items])
            for w, items in created
        ]
    )


def _media_type(request: Request) -> str:
    value = request.headers.get("content-type", "")
    media, _, parameters = value.partition(";")
    media = media.strip().lower()
    if media not in (JSON_TYPE, CSV_TYPE):
        raise Problem(
            UNSUPPORTED_MEDIA_TYPE,
            f"Send {JSON_TYPE} (an export or one list) or {CSV_TYPE} (items of one list).",
        )
    charset = next(
        (
            p.partition("=")[2].strip().strip('"').lower()
            for p in parameters.split(";")
            if p.strip().lower().startswith("charset=")
        ),
        "utf-8",
    )
    if charset not in ("utf-8", "utf8"):
        raise Problem(UNSUPPORTED_MEDIA_TYPE, "Only UTF-8 text can be imported.")
    return media


async def _read(request: Request) -> bytes:
    """The body, refused (413) as soon as it is larger than an import may be."""
    too_large = Problem(BODY_TOO_LARGE, f"An import is at most {MAX_IMPORT_BYTES} bytes.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_IMPORT_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise too_large
    return bytes(body)


def _json_plans(body: bytes) -> list[_Planned]:
    text = imports.text_of(body)
    imports.check_json_nesting(text, MAX_IMPORT_DEPTH)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidInput([FieldError("body", "is not valid JSON")]) from exc
    if not isinstance(document, dict):
        raise InvalidInput([FieldError("body", "must be a JSON object")])
    sources = (
        imports.lists_of_export(document)
        if imports.is_export(document)
        else [imports.Source("body", document)]
    )
    # Counted before a single item is validated: past the cap, that work is wasted.
    _check_item_count(
        sum(len(items) for s in sources if isinstance(items := s.fields.get("items"), list))
    )
    errors: list[FieldError] = []
    plans = [_list_plan(source, errors) for source in sources]
    _raise_if_any(errors)
    return [plan for plan in plans if plan is not None]


def _check_item_count(count: int) -> None:
    if count > MAX_ITEMS_PER_IMPORT:
        raise LimitReached("items per import", MAX_ITEMS_PER_IMPORT)


def _csv_plan(body: bytes, title: str | None) -> _Planned:
    errors: list[FieldError] = []
    wishlist = _valid(
        WishlistCreate, {"title": title} if title is not None else {}, "query", errors
    )
    rows = imports.items_of_csv(imports.text_of(body))
    _check_item_count(len(rows))
    items = [_valid_item(row.fields, row.where, errors) for row in rows]
    _raise_if_any(errors)
    assert wishlist is not None
    return _Planned(wishlist=wishlist, items=[item for item in items if item is not None])


def _list_plan(source: imports.Source, errors: list[FieldError]) -> _Planned | None:
    found = _valid(WishlistImport, source.fields, source.where, errors)
    if found is None:
        return None
    for n, item in enumerate(found.items):
        _cross_checked(item, f"{source.where}.items.{n}", errors)
    wishlist = WishlistCreate(
        title=found.title, description=found.description, occasion_date=found.occasion_date
    )
    return _Planned(wishlist=wishlist, items=found.items)


def _valid_item(fields: dict[str, Any], where: str, errors: list[FieldError]) -> ItemCreate | None:
    item = _valid(ItemCreate, fields, where, errors)
    if item is not None:
        _cross_checked(item, where, errors)
    return item


def _cross_checked(item: ItemCreate, where: str, errors: list[FieldError]) -> None:
    # price_problems names fields as a request body's ("body.price").
    for problem in v.price_problems(item.price, item.currency):
        errors.append(FieldError(f"{where}.{problem.field.removeprefix('body.')}", problem.message))


def _valid(model: type[M], fields: Any, where: str, errors: list[FieldError]) -> M | None:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            place = ".".join(str(part) for part in (where, *error["loc"]))
            errors.append(FieldError(place, error["msg"]))
        return None


def _raise_if_any(errors: Sequence[FieldError]) -> None:
    if errors:
        raise InvalidInput(list(errors[:MAX_IMPORT_ERRORS]))


async def _create(
    db: AsyncSession, owner: uuid.UUID, plans: Sequence[_Planned]
) -> list[tuple[Wishlist, list[Item]]]:
    for plan in plans:
        if len(plan.items) > MAX_ITEMS_PER_WISHLIST:
            raise LimitReached("items per wishlist", MAX_ITEMS_PER_WISHLIST)
    created: list[tuple[Wishlist, list[Item]]] = []
    async with scope.for_user(db, owner):
        await locks.lock_owner(db, owner)
        owned = await wishlist_rows.count_owned(db, owner)
        if owned + len(plans) > MAX_WISHLISTS_PER_OWNER:
            raise LimitReached("wishlists per owner", MAX_WISHLISTS_PER_OWNER)
        for n, plan in enumerate(plans):
            wishlist = await wishlist_rows.create(
                db,
                owner,
                title=plan.wishlist.title,
                description=plan.wishlist.description,
                occasion_date=plan.wishlist.occasion_date,
                created_at=func.now() + n * _STEP,
            )
            items: list[Item] = []
            for k, body in enumerate(plan.items):
                at = func.now() + k * _STEP
                item = await item_rows.add(
                    db, wishlist, {**body.model_dump(), "created_at": at, "updated_at": at}
                )
                # Nobody views a list made in this transaction: told to no one.
                await publishing.item_added(db, wishlist, item, viewers=())
                items.append(item)
            created.append((wishlist, items))
    return created
