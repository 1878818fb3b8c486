"""What a product page says about itself: the fields that pre-fill a new item.

Pure: the page arrives as bytes already fetched (see :mod:`wishlists.previews`
for how, and how carefully). Only syntaxes that are read from the page itself
are used: Open Graph, JSON-LD and microdata, never RDFa, whose processors may
fetch vocabularies.

Precedence, field by field: the page's structured ``Product`` (JSON-LD before
microdata), then Open Graph, then ``<title>``. A price and its currency always
come from the same place, never one from each.

Everything the page says is distrusted: each value is checked with the same
rules as an item's field (:mod:`wishlists.domain.validation`), so what comes
back can be saved as it is; a value that does not pass is left out (null),
not guessed at.
"""

from __future__ import annotations

import codecs
import html
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import lxml.etree
import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from extruct.w3cmicrodata import MicrodataExtractor

from wishlists.domain import validation as v
from wishlists.domain.currencies import MINOR_UNITS

PRODUCT_TYPES = frozenset(
    {"Product", "ProductGroup", "ProductModel", "IndividualProduct", "SomeProducts"}
)
_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")
# How deep a JSON-LD document is searched for a product: deep enough for a
# product inside a page inside a graph, shallow enough for hostile nesting.
MAX_JSON_DEPTH = 8
_SNIFF_BYTES = 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Labels that the web treats as windows-1252 (it is a superset of them all).
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "ascii"})
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP"}
"""Symbols that name one currency; ``$`` and ``¥`` name several and are not guessed."""
_AMOUNT = re.compile(r"[0-9][0-9.,]*")
_PRICE_TEXT = re.compile(
    r"(?:(?P<before>[A-Za-z]{3}|[€£$¥])\s*)?"
    r"(?P<number>[0-9][0-9.,\s\u00a0\u202f'\u2019]*?)"
    r"(?:\s*(?P<after>[A-Za-z]{3}|[€£$¥]))?"
)


@dataclass(frozen=True)
class Preview:
    """What a link says about the thing behind it; each field may be unknown."""

    url: str
    """The page's address after redirects."""
    title: str | None = None
    image_url: str | None = None
    price: str | None = None
    """Decimal string as items write it ("19.99"); with ``currency`` whenever that is known."""
    currency: str | None = None


@dataclass(frozen=True)
class _Offer:
    price: Decimal
    currency: str | None


# --- decoding -------------------------------------------------------------------


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(body: bytes, declared_charset: str | None) -> str:
    """The page as text: byte-order mark, then the HTTP charset, then ``<meta charset>``.

    Without any of them UTF-8 is tried and windows-1252 is the fallback, the
    two encodings an undeclared page is most likely in; never an error.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace")
    if body.startswith(codecs.BOM_UTF16_BE):
        return body[2:].decode("utf-16-be", errors="replace")
    declared = _codec(declared_charset)
    if declared is None:
        match = _META_CHARSET.search(body[:_SNIFF_BYTES])
        declared = _codec(match.group(1).decode("ascii")) if match else None
    if declared is not None:
        return body.decode(declared, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


# --- reading the page ------------------------------------------------------------


def read_page(body: bytes, *, url: str, charset: str | None = None) -> Preview:
    """The preview of the page at ``url`` (its final address) whose body is ``body``."""
    text = _XML_DECLARATION.sub("", decode(body, charset), count=1)
    try:
        # Re-encoded: lxml refuses text that still declares an encoding, and
        # from bytes with a stated one it never second-guesses it.
        tree = lxml.html.fromstring(
            text.encode("utf-8"),
            parser=lxml.html.HTMLParser(encoding="utf-8", no_network=True),
        )
    except (lxml.etree.ParserError, ValueError):  # an empty or unparseable page
        return Preview(url=url)
    products = [*_json_ld_products(tree), *_microdata_products(tree, url)]
    product = products[0] if products else {}
    og = _open_graph(tree)
    title = (
        _title(_first_text(product.get("name"), unescape=True))
        or _title(og.get("og:title"))
        or _title(_page_title(tree))
    )
    image = _image(product.get("image"), url) or _image(
        og.get("og:image") or og.get("og:image:secure_url") or og.get("og:image:url"), url
    )
    offer = _product_offer(product) or _og_offer(og)
    return Preview(
        url=url,
        title=title,
        image_url=image,
        price=v.format_price(offer.price) if offer else None,
        currency=offer.currency if offer else None,
    )


def _safely(extract: Any, *args: Any, **kwargs: Any) -> list[Any]:
    # Each syntax is read on its own: a page's broken microdata must not cost
    # it its good JSON-LD. Anything may go wrong on hostile markup.
    try:
        return list(extract(*args, **kwargs))
    except Exception:  # noqa: BLE001 - any failure means "this part says nothing"
        return []


def _json_ld_products(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    extractor = JsonLdExtractor()
    # Script by script, so that one broken block leaves the others readable.
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        for document in _safely(extractor.extract_items, script):
            yield from _products_in(document, 0)


def _products_in(node: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Products in a JSON-LD document, in document order (``@graph``, lists, nesting)."""
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(node, list):
        for child in node:
            yield from _products_in(child, depth + 1)
    elif isinstance(node, dict):
        if _is_product(node.get("@type")):
            yield node
            return
        for key, child in node.items():
            if key != "@context":
                yield from _products_in(child, depth + 1)


def _type_names(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        if isinstance(entry, str):
            name = entry
            for prefix in _SCHEMA_PREFIXES:
                name = name.removeprefix(prefix)
            names.append(name)
    return names


def _is_product(value: Any) -> bool:
    return any(name in PRODUCT_TYPES for name in _type_names(value))


def _microdata_products(tree: lxml.html.HtmlElement, url: str) -> Iterator[dict[str, Any]]:
    """Microdata items of a schema.org product type, in JSON-LD's shape."""
    for item in _safely(MicrodataExtractor().extract_items, tree, base_url=url):
        node = _as_json_ld(item, 0)
        if isinstance(node, dict):
            yield from _products_in(node, 0)


def _as_json_ld(value: Any, depth: int) -> Any:
    """extruct's ``{"type": ..., "properties": {...}}`` as ``{"@type": ..., ...}``."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, list):
        return [_as_json_ld(v, depth + 1) for v in value]
    if isinstance(value, dict) and isinstance(value.get("properties"), dict):
        node = {k: _as_json_ld(v, depth + 1) for k, v in value["properties"].items()}
        node["@type"] = value.get("type")
        return node
    return value


def _open_graph(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Each Open Graph property's first value (the first ``og:image`` is the main one)."""
    found: dict[str, str] = {}
    for block in _safely(OpenGraphExtractor().extract_items, tree):
        for prop, value in block.get("properties", []):
            if isinstance(prop, str) and isinstance(value, str):
                found.setdefault(prop.strip().lower(), value)
    return found


def _page_title(tree: lxml.html.HtmlElement) -> str | None:
    titles = tree.xpath("//title")
    return str(titles[0].text_content()) if titles else None


# --- fields -----------------------------------------------------------------------


def _first_text(value: Any, *, unescape: bool = False) -> str | None:
    if isinstance(value, list):
        value = next((x for x in value if isinstance(x, str)), None)
    if not isinstance(value, str):
        return None
    # JSON-LD is often written by templates that HTML-escape it twice.
    return html.unescape(value) if unescape else value


def _title(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = " ".join(raw.split())
    return text[: v.TITLE_MAX_LENGTH].rstrip() or None


def _image(value: Any, base: str) -> str | None:
    """The first usable image: a URL, a list of them, or an ``ImageObject``."""
    candidates = value if isinstance(value, list) else [value]
    for each in candidates[:10]:
        candidate = each
        if isinstance(each, dict):
            candidate = each.get("url") or each.get("contentUrl")
            if isinstance(candidate, list):
                candidate = candidate[0] if candidate else None
        if isinstance(candidate, str) and (url := absolute_web_url(candidate, base)):
            return url
    return None


def absolute_web_url(raw: str, base: str) -> str | None:
    """``raw`` resolved against ``base``, if that is a URL an item may hold (http/https)."""
    try:
        return v.web_url(urllib.parse.urljoin(base, html.unescape(raw.strip())))
    except ValueError:
        return None


def _product_offer(product: dict[str, Any]) -> _Offer | None:
    offers = product.get("offers")
    for offer in (offers if isinstance(offers, list) else [offers])[:20]:
        if isinstance(offer, dict) and (found := _offer(offer, 0)):
            return found
    return None


def _offer(offer: dict[str, Any], depth: int) -> _Offer | None:
    """An ``Offer``'s or ``AggregateOffer``'s price (its ``lowPrice``: "from ...")."""
    currency = _first_text(offer.get("priceCurrency"))
    for key in ("price", "lowPrice"):
        if found := price_of(offer.get(key), currency):
            return found
    specs = offer.get("priceSpecification")
    for spec in (specs if isinstance(specs, list) else [specs])[:10]:
        if isinstance(spec, dict):
            spec_currency = _first_text(spec.get("priceCurrency")) or currency
            if found := price_of(spec.get("price"), spec_currency):
                return found
    inner = offer.get("offers")  # an AggregateOffer that lists its offers
    if depth < 2:
        for each in (inner if isinstance(inner, list) else [inner])[:20]:
            if isinstance(each, dict) and (found := _offer(each, depth + 1)):
                return found
    return None


def _og_offer(og: dict[str, str]) -> _Offer | None:
    for prefix in ("product:price", "og:price"):
        if found := price_of(og.get(f"{prefix}:amount"), og.get(f"{prefix}:currency")):
            return found
    return None


def price_of(amount: Any, currency: str | None) -> _Offer | None:
    """A price as an item may hold it, with its currency when that is one items know.

    ``amount`` may be a JSON number or text as shops write it: "1,299.00",
    "1.299,00", "19.99 EUR", "€ 19,99". A currency named in the text counts
    when none is given separately. More decimal places than the currency has
    (other than trailing zeros) make the price unusable rather than rounded.
    """
    if isinstance(amount, list):
        amount = amount[0] if amount else None
    if isinstance(amount, bool) or amount is None:
        return None
    if isinstance(amount, (int, float)):
        text = str(amount)
        named = None
    elif isinstance(amount, str):
        text, named = _strip_currency(amount)
    else:
        return None
    value = _amount(text)
    if value is None:
        return None
    code = _currency(currency) or _currency(named)
    if code is not None:
        value = _to_minor_units(value, MINOR_UNITS[code])
        if value is None:
            return None
    try:
        v.price_amount(v.format_price(value) or "")
    except ValueError:
        return None
    return _Offer(value, code)


def _strip_currency(raw: str) -> tuple[str, str | None]:
    """The number of a price written with its currency ("EUR 19.99", "19,99 €")."""
    match = _PRICE_TEXT.fullmatch(raw.strip())
    if match is None:
        return "", None
    named = next((c for c in (match["before"], match["after"]) if c), None)
    if named in _CURRENCY_SYMBOLS:
        named = _CURRENCY_SYMBOLS[named]
    elif named is not None and not named.isalpha():
        named = None  # "$" or "¥": which dollar, which yen?
    # Spaces, no-break spaces and apostrophes group thousands ("1 299", "1'299").
    return re.sub(r"[\s\u00a0\u202f'\u2019]", "", match["number"]), named


def _amount(text: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(text):
        return None
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        # The later of the two marks the decimals; the other groups thousands.
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
    elif commas:
        # "19,99" has decimals; "1,299" and "1,299,000" are thousands.
        tail = text.rpartition(",")[2]
        decimal_mark = "," if commas == 1 and len(tail) != 3 else ""
    elif dots > 1:
        decimal_mark = ""  # "1.299.000"
    else:
        decimal_mark = "."  # schema.org's own way of writing a price
    for mark in ",.":
        if mark != decimal_mark:
            text = text.replace(mark, "")
    if decimal_mark:
        if text.count(decimal_mark) > 1:
            return None
        text = text.replace(decimal_mark, ".")
    if text.startswith(".") or text.endswith("."):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _currency(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return v.currency_code(raw)
    except ValueError:
        return None


def _to_minor_units(value: Decimal, places: int) -> Decimal | None:
    """``value`` with at most ``places`` decimals by dropping trailing zeros, or None."""
    while v.decimals(value) > places:
        digits = value.as_tuple().digits
        if digits[-1] != 0:
            return None
        value = value.quantize(Decimal(1).scaleb(-(v.decimals(value) - 1)))
    return value
