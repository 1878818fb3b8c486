"""Reading imports: CSV rows into item fields, and the lists of a data export."""

from __future__ import annotations

import pytest

from wishlists.domain.errors import InvalidInput
from wishlists.domain.imports import check_json_nesting, items_of_csv, lists_of_export, text_of


def fields_of(text: str) -> list[tuple[str, dict[str, object]]]:
    return [(row.where, row.fields) for row in items_of_csv(text)]


def test_rows_are_numbered_as_a_spreadsheet_shows_them_and_blank_ones_skipped() -> None:
    text = 'Title,PRICE, Notes \r\n"Socks, wool",1.50,"a ""b"""\r\n\r\nKite,,\r\n'
    assert fields_of(text) == [
        ("row 2", {"title": "Socks, wool", "price": "1.50", "notes": 'a "b"'}),
        ("row 4", {"title": "Kite"}),
    ]


def test_whole_numbers_become_numbers_and_anything_else_stays_text_for_validation() -> None:
    assert fields_of("title,quantity,priority\nA, 2 ,x\n") == [
        ("row 2", {"title": "A", "quantity": 2, "priority": "x"})
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_column() -> None:
    assert fields_of(text_of("\ufefftitle\nA\n".encode())) == [("row 2", {"title": "A"})]


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("", "body", "header"),
        ("title,colour,Size\n", "header", "colour, size"),
        ("title,title\n", "header", "named twice"),
        ("url\n", "header", "title column"),
        ("title\nA,B\n", "row 2", "2 cells"),
        ("title,\nA,B\n", "row 2", "without a name"),
    ],
)
def test_a_malformed_csv_names_where(text: str, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        items_of_csv(text)
    assert [e.field for e in caught.value.errors] == [field]
    assert words in caught.value.errors[0].message


def test_an_unnamed_empty_column_is_harmless() -> None:
    assert fields_of("title,\nA,\n") == [("row 2", {"title": "A"})]


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InvalidInput):
        text_of("König".encode("latin-1"))


def test_an_export_gives_only_the_content_of_each_list() -> None:
    document = {
        "format": "wishlist-platform-export",
        "version": 1,
        "account": {"email": "a@example.com"},
        "wishlists": [
            {
                "id": "x",
                "title": "T",
                "created_at": "2026-01-01T00:00:00Z",
                "shares": [{"email": "b@example.com"}],
                "items": [{"id": "i", "title": "I", "price": "1", "currency": "EUR", "x": 1}],
            }
        ],
    }
    (source,) = lists_of_export(document)
    assert source.where == "body.wishlists.0"
    assert source.fields == {
        "title": "T",
        "items": [{"title": "I", "price": "1", "currency": "EUR"}],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "other"}, "body.format"),
        ({"version": 2}, "body.version"),
        ({"wishlists": {}}, "body.wishlists"),
        ({"wishlists": ["x"]}, "body.wishlists.0"),
    ],
)
def test_an_export_of_another_kind_is_refused(change: dict[str, object], field: str) -> None:
    document = {"format": "wishlist-platform-export", "version": 1, "wishlists": []} | change
    with pytest.raises(InvalidInput) as caught:
        lists_of_export(document)
    assert [e.field for e in caught.value.errors] == [field]


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"a": [{"b": [1, {"c": []}]}]}',
        "[" * 16 + "]" * 16,
        # Brackets in strings are text, escaped quotes included.
        '{"t": "[[[[[[[[[[[[[[[[[[[[", "u": "\\"[[[[[[[[[[[[[[[[[[["}',
    ],
)
def test_json_nesting_within_the_limit_passes(text: str) -> None:
    check_json_nesting(text, 16)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 17 + "]" * 17, "nests deeper than 16 levels"),
        ("[" * 8 + "{" * 9 + "}" * 9 + "]" * 8, "nests deeper than 16 levels"),
        ("[" * 100_000, "nests deeper than 16 levels"),
        ("[" * 16, "is not valid JSON"),
        ("[[[]" + "[" * 15, "nests deeper than 16 levels"),
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 16 levels"),
        ("]" * 3 + "[" * 3, "is not valid JSON"),
    ],
)
def test_json_nesting_past_the_limit_is_refused_before_parsing(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_json_nesting(text, 16)
    assert [e.message for e in refused.value.errors] == [message]
