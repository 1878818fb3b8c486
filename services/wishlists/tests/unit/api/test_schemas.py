"""Request bodies: unknown fields refused, PATCH semantics, response types per audience."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from wishlists.api.schemas import (
    ItemCreate,
    ItemOut,
    ItemPatch,
    ReservationCreate,
    ViewerItemOut,
    WishlistCreate,
    WishlistPatch,
    item_out,
)
from wishlists.domain.model import Item, Tally
from wishlists.domain.surprise import Audience, disclose

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _fields(error: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in error.errors()}


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(ValidationError) as refused:
        WishlistCreate.model_validate({"title": "x", "owner_id": str(uuid.uuid4())})
    assert _fields(refused.value) == {"owner_id"}
    with pytest.raises(ValidationError) as refused:
        ItemCreate.model_validate({"title": "x", "prize": "1"})
    assert _fields(refused.value) == {"prize"}


def test_an_item_gets_its_defaults_and_canonical_values() -> None:
    item = ItemCreate.model_validate({"title": " Kite ", "price": "19.90", "currency": "eur"})
    assert (item.title, item.price, item.currency) == ("Kite", Decimal("19.90"), "EUR")
    assert (item.quantity, item.priority) == (1, 3)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "price": 19.9, "currency": "EUR"}, "price"),
        ({"title": "x", "quantity": "2"}, "quantity"),
        ({"title": "x", "quantity": 2.0}, "quantity"),
        ({"title": "x", "priority": False}, "priority"),
        ({"title": "x", "url": 5}, "url"),
    ],
)
def test_values_of_the_wrong_json_type_are_refused(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ItemCreate.model_validate(body)
    assert _fields(refused.value) == {field}


def test_a_patch_changes_exactly_what_it_names() -> None:
    assert ItemPatch.model_validate({}).changes() == {}
    assert ItemPatch.model_validate({"notes": None, "quantity": 2}).changes() == {
        "notes": None,
        "quantity": 2,
    }
    assert WishlistPatch.model_validate({"occasion_date": None}).changes() == {
        "occasion_date": None
    }


@pytest.mark.parametrize("field", ["title", "quantity", "priority"])
def test_a_required_field_may_not_be_patched_to_null(field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ItemPatch.model_validate({field: None})
    assert _fields(refused.value) == {field}


def test_a_reservation_is_of_one_unit_unless_said_otherwise() -> None:
    assert ReservationCreate.model_validate({}).quantity == 1
    with pytest.raises(ValidationError):
        ReservationCreate.model_validate({"quantity": 0})


def test_an_item_has_reservation_fields_only_when_disclosed_to_a_viewer() -> None:
    item = Item(
        uuid.uuid4(), uuid.uuid4(), "Kite", None, Decimal("5.0"), "EUR", None, 2, 3, None, NOW, NOW
    )
    owner_json = item_out(disclose(item, Audience.OWNER, Tally(2, False))).model_dump()
    viewer_out = item_out(disclose(item, Audience.VIEWER, Tally(2, False)))
    assert type(item_out(disclose(item, Audience.OWNER))) is ItemOut
    assert isinstance(viewer_out, ViewerItemOut)
    assert owner_json["price"] == "5.0"
    assert not {k for k in owner_json if "reserv" in k}
    assert viewer_out.model_dump() == owner_json | {
        "reserved_quantity": 2,
        "reserved_by_me": False,
        "reserved_by": [],
    }
