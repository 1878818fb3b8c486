"""Reading a product page: Open Graph, JSON-LD, microdata, and the pages shops really write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wishlists.domain.previews import Preview, decode, price_of, read_page

URL = "https://shop.example/products/kite?ref=home"


def page(head: str = "", body: str = "", *, charset: str = "utf-8") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode(charset)


def read(html: bytes, charset: str | None = None) -> Preview:
    return read_page(html, url=URL, charset=charset)


OPEN_GRAPH = page(
    """
    <title>Kite | Shop</title>
    <meta property="og:title" content="Delta kite, red">
    <meta property="og:image" content="https://cdn.shop.example/kite.jpg">
    <meta property="og:image" content="https://cdn.shop.example/kite-2.jpg">
    <meta property="product:price:amount" content="49.90">
    <meta property="product:price:currency" content="EUR">
    """
)

JSON_LD = page(
    """
    <title>Kite | Shop</title>
    <meta property="og:title" content="Open Graph title">
    <script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "Product", "name": "Stunt kite",
     "image": ["/img/stunt.png", "/img/stunt-2.png"],
     "offers": {"@type": "Offer", "price": "129.00", "priceCurrency": "USD"}}
    </script>
    """
)

MICRODATA = page(
    "<title>Kite | Shop</title>",
    """
    <div itemscope itemtype="https://schema.org/Product">
      <h1 itemprop="name">Box   kite</h1>
      <img itemprop="image" src="../images/box.jpg">
      <div itemprop="offers" itemscope itemtype="http://schema.org/Offer">
        <span itemprop="price" content="24.50">24,50 €</span>
        <meta itemprop="priceCurrency" content="EUR">
      </div>
    </div>
    """,
)


def test_open_graph_fills_title_image_and_price() -> None:
    assert read(OPEN_GRAPH) == Preview(
        url=URL,
        title="Delta kite, red",
        image_url="https://cdn.shop.example/kite.jpg",
        price="49.90",
        currency="EUR",
    )


def test_json_ld_product_comes_before_open_graph() -> None:
    assert read(JSON_LD) == Preview(
        url=URL,
        title="Stunt kite",
        image_url="https://shop.example/img/stunt.png",
        price="129.00",
        currency="USD",
    )


def test_microdata_product_is_read_with_its_offer() -> None:
    assert read(MICRODATA) == Preview(
        url=URL,
        title="Box kite",
        image_url="https://shop.example/images/box.jpg",
        price="24.50",
        currency="EUR",
    )


def test_the_page_title_is_the_last_resort() -> None:
    preview = read(page("<title>\n  Just   a page\n</title>"))
    assert preview == Preview(url=URL, title="Just a page")


def test_og_price_properties_are_read_too() -> None:
    preview = read(
        page(
            '<meta property="og:price:amount" content="15">'
            '<meta property="og:price:currency" content="gbp">'
        )
    )
    assert (preview.price, preview.currency) == ("15", "GBP")


@pytest.mark.parametrize(
    "script",
    [
        # Inside a graph, next to other things.
        """{"@context": "https://schema.org", "@graph": [
            {"@type": "WebSite", "name": "Shop"},
            {"@type": ["Product"], "name": "Graph kite",
             "image": {"@type": "ImageObject", "url": "https://cdn.shop.example/g.jpg"},
             "offers": {"@type": "AggregateOffer", "lowPrice": 9.5, "highPrice": 20,
                        "priceCurrency": "EUR"}}]}""",
        # A list of documents, the product nested in a page.
        """[{"@type": "BreadcrumbList"},
            {"@type": "ItemPage", "mainEntity": {"@type": "http://schema.org/Product",
             "name": "Graph kite", "image": [{"@type": "ImageObject",
             "contentUrl": "https://cdn.shop.example/g.jpg"}],
             "offers": [{"@type": "Offer", "priceSpecification": {
                "@type": "UnitPriceSpecification", "price": 9.5, "priceCurrency": "EUR"}}]}}]""",
    ],
)
def test_json_ld_products_are_found_wherever_they_are(script: str) -> None:
    preview = read(page(f'<script type="application/ld+json">{script}</script>'))
    assert preview.title == "Graph kite"
    assert preview.image_url == "https://cdn.shop.example/g.jpg"
    assert (preview.price, preview.currency) == ("9.5", "EUR")


def test_a_broken_json_ld_block_does_not_hide_the_good_one() -> None:
    preview = read(
        page(
            '<script type="application/ld+json">{"@type": "Product", "name": </script>'
            '<script type="application/ld+json">'
            '{"@type": "Product", "name": "Second block"}</script>'
        )
    )
    assert preview.title == "Second block"


def test_broken_structured_data_falls_back_to_open_graph() -> None:
    preview = read(
        page(
            '<meta property="og:title" content="OG kite">'
            '<script type="application/ld+json">{not json at all</script>'
        )
    )
    assert preview.title == "OG kite"


def test_of_several_products_the_first_one_is_the_page() -> None:
    products = "".join(
        f'<script type="application/ld+json">{{"@type": "Product", "name": "{name}",'
        f' "offers": {{"price": "{price}", "priceCurrency": "EUR"}}}}</script>'
        for name, price in (("Main kite", "30"), ("Related kite", "5"))
    )
    preview = read(page(products))
    assert (preview.title, preview.price) == ("Main kite", "30")


def test_price_and_currency_come_from_the_same_place() -> None:
    # The product says a price without a currency: the Open Graph currency is
    # not borrowed for it, but a complete Open Graph price is not taken either.
    preview = read(
        page(
            '<script type="application/ld+json">'
            '{"@type": "Product", "name": "Kite", "offers": {"price": "12.00"}}</script>'
            '<meta property="product:price:amount" content="99">'
            '<meta property="product:price:currency" content="USD">'
        )
    )
    assert (preview.price, preview.currency) == ("12.00", None)


def test_missing_fields_are_null() -> None:
    assert read(page("", "<p>Nothing to see</p>")) == Preview(url=URL)


@pytest.mark.parametrize("body", [b"", b"   ", b"\x00\x01\x02", b"<html>"])
def test_empty_or_garbage_pages_give_an_empty_preview(body: bytes) -> None:
    assert read(body).price is None


def test_relative_and_protocol_relative_images_are_made_absolute() -> None:
    relative = read(page('<meta property="og:image" content="/static/k.png">'))
    assert relative.image_url == "https://shop.example/static/k.png"
    protocol = read(page('<meta property="og:image" content="//cdn.shop.example/k.png">'))
    assert protocol.image_url == "https://cdn.shop.example/k.png"


@pytest.mark.parametrize(
    "image", ["javascript:alert(1)", "data:image/png;base64,AAAA", "file:///etc/passwd", ""]
)
def test_images_that_are_not_web_urls_are_dropped(image: str) -> None:
    preview = read(page(f'<meta property="og:image" content="{image}">'))
    assert preview.image_url is None


def test_titles_are_trimmed_and_capped_to_the_item_title_limit() -> None:
    preview = read(page(f'<meta property="og:title" content="  {"Kite " * 100}  ">'))
    assert preview.title is not None
    assert len(preview.title) <= 200
    assert preview.title.startswith("Kite Kite")
    assert not preview.title.endswith(" ")


def test_escaped_entities_in_json_ld_names_are_undone() -> None:
    preview = read(
        page(
            '<script type="application/ld+json">'
            '{"@type": "Product", "name": "Kites &amp; more"}</script>'
        )
    )
    assert preview.title == "Kites & more"


@pytest.mark.parametrize(
    ("amount", "currency", "price", "code"),
    [
        ("1,299.00", "USD", "1299.00", "USD"),
        ("1.299,00", "EUR", "1299.00", "EUR"),
        ("19.99 EUR", None, "19.99", "EUR"),
        ("EUR 19.99", None, "19.99", "EUR"),
        ("19,99 €", None, "19.99", "EUR"),
        ("£5", None, "5", "GBP"),
        ("1 299,50", "EUR", "1299.50", "EUR"),
        ("1'299.50", "CHF", "1299.50", "CHF"),
        (19.99, "EUR", "19.99", "EUR"),
        (1500, "JPY", "1500", "JPY"),
        ("19.990", "EUR", "19.99", "EUR"),
        ("$19.99", None, "19.99", None),  # which dollar?
        ("19.99", "XYZ", "19.99", None),  # not a currency items take
        ("19.99", "usd", "19.99", "USD"),
    ],
)
def test_prices_are_read_as_shops_write_them(
    amount: object, currency: str | None, price: str, code: str | None
) -> None:
    offer = price_of(amount, currency)
    assert offer is not None
    assert (str(offer.price), offer.currency) == (price, code)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("19.999", "EUR"),  # more decimals than euros have: not rounded
        ("12.5", "JPY"),
        ("-5", "EUR"),
        (-5, "EUR"),
        (True, "EUR"),
        ("free", "EUR"),
        ("1e5", "EUR"),
        ("NaN", "EUR"),
        (float("inf"), "EUR"),
        ("1.2.3,4,5", "EUR"),
        ("1" * 13, "EUR"),
        ("", "EUR"),
        (None, "EUR"),
        ({"value": 1}, "EUR"),
    ],
)
def test_prices_an_item_could_not_hold_are_left_out(amount: object, currency: str) -> None:
    assert price_of(amount, currency) is None


def test_prices_keep_their_scale_as_items_write_it() -> None:
    offer = price_of("20.00", "EUR")
    assert offer is not None
    assert offer.price == Decimal("20.00")
    assert str(offer.price) == "20.00"


@pytest.mark.parametrize(
    ("body", "declared", "text"),
    [
        ("Préférée".encode("latin-1"), "iso-8859-1", "Préférée"),
        ("Préférée".encode(), None, "Préférée"),
        ("Préférée".encode("latin-1"), None, "Préférée"),  # not UTF-8: windows-1252
        (b'<meta charset="koi8-r">' + "Змей".encode("koi8-r"), None, "Змей"),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">'
            + "凧".encode("shift_jis"),
            None,
            "凧",
        ),
        (b"\xef\xbb\xbf" + b"Drachen", "latin-1", "Drachen"),  # the BOM wins
        (b"Drachen", "no-such-charset", "Drachen"),
    ],
)
def test_pages_are_decoded_with_their_declared_or_sniffed_charset(
    body: bytes, declared: str | None, text: str
) -> None:
    assert text in decode(body, declared)


def test_a_page_in_its_own_charset_reads_right() -> None:
    html = page('<meta charset="windows-1251"><title>Воздушный змей</title>', charset="cp1251")
    assert read(html).title == "Воздушный змей"
    assert read(page("<title>Cerf-volant préféré</title>", charset="latin-1"), "latin-1").title == (
        "Cerf-volant préféré"
    )


def test_xhtml_with_an_xml_declaration_is_read() -> None:
    html = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML kite</title></head></html>'
    )
    assert read(html).title == "XHTML kite"
