"""Reading what a user imports: a data export, one list as JSON, or items as CSV.

This turns text into plain field dictionaries, each with the place it came
from; whether the values are valid is decided afterwards by the same rules
as creating a list or an item by hand. Only the user's own content is taken
from an export: ids, timestamps, shares and reservations stay behind.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wishlists.domain.errors import FieldError, InvalidInput

EXPORT_FORMAT = "wishlist-platform-export"
EXPORT_VERSION = 1

LIST_FIELDS = ("title", "description", "occasion_date", "items")
ITEM_FIELDS = (
    "title",
    "url",
    "price",
    "currency",
    "image_url",
    "quantity",
    "priority",
    "notes",
)
CSV_COLUMNS = frozenset(ITEM_FIELDS)
"""Columns a CSV may have, named case-insensitively; ``title`` is required."""
_WHOLE_NUMBER_COLUMNS = frozenset({"quantity", "priority"})
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_BOM = "\ufeff"


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
# Objects nest as arrays do: counted as one kind, a parser's mismatch is its own to find.
_AS_ARRAYS = str.maketrans("{}", "[]")


def check_json_nesting(text: str, limit: int) -> None:
    """:class:`InvalidInput` if the JSON text nests arrays and objects deeper than ``limit``.

    Decided before any parser recurses into the text (a parser meets
    ``[[[[...`` a hundred thousand deep with a RecursionError, not an answer),
    in at most ``limit + 1`` passes over its brackets.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text)).translate(_AS_ARRAYS)
    too_deep = InvalidInput([FieldError("body", f"nests deeper than {limit} levels")])
    depth = 0
    while brackets:
        # Each pass takes away every innermost pair, so the deepest nesting by one.
        inner = brackets.replace("[]", "")
        if inner == brackets:
            # No pair left: "]]][[[", whose openers a parser would still descend into.
            if depth + len(brackets) - len(brackets.rstrip("[")) > limit:
                raise too_deep
            raise InvalidInput([FieldError("body", "is not valid JSON")])
        depth += 1
        if depth > limit:
            raise too_deep
        brackets = inner


@dataclass(frozen=True)
class Source:
    """One thing to validate and where it came from, to name in errors."""

    where: str
    """Prefix of each error's field: ``body.wishlists.2``, ``row 7``."""
    fields: dict[str, Any]


def lists_of_export(document: Mapping[str, Any]) -> list[Source]:
    """The lists of a data export, each with only the fields a user creates a list with.

    :class:`InvalidInput` when the document is not an export this version reads.
    """
    if document.get("format") != EXPORT_FORMAT:
        raise InvalidInput([FieldError("body.format", f'must be "{EXPORT_FORMAT}"')])
    if document.get("version") != EXPORT_VERSION:
        raise InvalidInput([FieldError("body.version", f"must be {EXPORT_VERSION}")])
    entries = document.get("wishlists")
    if not isinstance(entries, list):
        raise InvalidInput([FieldError("body.wishlists", "must be a list")])
    found: list[Source] = []
    errors: list[FieldError] = []
    for n, entry in enumerate(entries):
        where = f"body.wishlists.{n}"
        if not isinstance(entry, dict):
            errors.append(FieldError(where, "must be an object"))
            continue
        fields = {k: entry[k] for k in LIST_FIELDS if k in entry}
        items = fields.get("items")
        if isinstance(items, list):
            fields["items"] = [
                {k: item[k] for k in ITEM_FIELDS if k in item} if isinstance(item, dict) else item
                for item in items
            ]
        found.append(Source(where, fields))
    if errors:
        raise InvalidInput(errors)
    return found


def is_export(document: Mapping[str, Any]) -> bool:
    """Whether a JSON object means to be a whole export rather than one list."""
    return "format" in document


def text_of(body: bytes, where: str = "body") -> str:
    """The body as text: UTF-8, with or without a byte order mark."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput([FieldError(where, "is not UTF-8 text")]) from exc
    return text.removeprefix(_BOM)


def items_of_csv(text: str) -> list[Source]:
    """One item per row of ``text`` under its header row; rows are numbered as a
    spreadsheet shows them (the header is row 1).

    Empty cells are left out, so the item gets the field's default; blank rows
    are skipped. Whole numbers are read as numbers, anything else in their
    columns is left for validation to refuse.
    """
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidInput([FieldError("body", f"is not readable as CSV: {exc}")]) from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise InvalidInput([FieldError("body", "needs a header row naming the columns")])
    header = [cell.strip().lower() for cell in records[0]]
    _check_header(header)
    found: list[Source] = []
    errors: list[FieldError] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        where = f"row {number}"
        if len(record) > len(header):
            errors.append(
                FieldError(where, f"has {len(record)} cells, the header names {len(header)}")
            )
            continue
        fields: dict[str, Any] = {}
        for name, cell in zip(header, record, strict=False):
            value = cell.strip()
            if not value:
                continue
            if not name:
                errors.append(FieldError(where, "has a value in a column without a name"))
                break
            is_number = name in _WHOLE_NUMBER_COLUMNS and _WHOLE_NUMBER.fullmatch(value)
            fields[name] = int(value) if is_number else value
        found.append(Source(where, fields))
    if errors:
        raise InvalidInput(errors)
    return found


def _check_header(header: list[str]) -> None:
    named = [name for name in header if name]
    unknown = sorted({name for name in named if name not in CSV_COLUMNS})
    errors: list[FieldError] = []
    if unknown:
        allowed = ", ".join(sorted(CSV_COLUMNS))
        errors.append(
            FieldError("header", f"unknown columns: {', '.join(unknown)} (allowed: {allowed})")
        )
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        errors.append(FieldError("header", f"columns named twice: {', '.join(repeated)}"))
    if "title" not in named:
        errors.append(FieldError("header", "needs a title column"))
    if errors:
        raise InvalidInput(errors)
