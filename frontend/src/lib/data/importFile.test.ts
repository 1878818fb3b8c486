import { describe, expect, it } from "vitest";

import { describePreview, importKindOf, parseCsv, placeOf, previewCsv, previewJson, titleFromFileName, withCurrency } from "./importFile";

describe("parseCsv", () => {
  it("keeps a quoted comma, a doubled quote and a line break inside one field", () => {
    const text = 'title,notes\r\n"Socks, wool","size ""M""\nblue"\r\nMug,\n';
    expect(parseCsv(text)).toEqual([
      ["title", "notes"],
      ["Socks, wool", 'size "M"\nblue'],
      ["Mug", ""],
    ]);
  });

  it("drops a byte order mark and blank lines", () => {
    expect(parseCsv("\uFEFFtitle\n\nBook\n\n")).toEqual([["title"], ["Book"]]);
  });

  it("reads a last line without a newline", () => {
    expect(parseCsv("a,b\n1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });
});

describe("previewCsv", () => {
  it("counts the rows under the header and samples their titles", () => {
    const preview = previewCsv('Title,url,price\n"Lamp, brass",https://shop.test/l,30\nBook,,\nPen,,2\nInk,,\n');
    expect(preview).toEqual({ kind: "csv", rows: 4, columns: ["title", "url", "price"], titles: ["Lamp, brass", "Book", "Pen"], needsCurrency: true });
    expect(describePreview(preview)).toBe("4 rows: each becomes an item");
  });

  it("refuses a file without a title column or without anything", () => {
    expect(previewCsv("name,price\nLamp,3\n").kind).toBe("invalid");
    expect(previewCsv("\n").kind).toBe("invalid");
  });
});

describe("previewJson", () => {
  it("counts the lists and items of an export", () => {
    const text = JSON.stringify({
      format: "wishlist-platform-export",
      version: 1,
      wishlists: [
        { title: "Birthday", items: [{ title: "a" }, { title: "b" }] },
        { title: "Wedding", items: [{ title: "c" }] },
      ],
    });
    const preview = previewJson(text);
    expect(preview).toEqual({ kind: "export", lists: 2, items: 3, titles: ["Birthday", "Wedding"] });
    expect(describePreview(preview)).toBe("2 lists with 3 items in all");
  });

  it("reads a single list", () => {
    const preview = previewJson('{"title":"Books","items":[{"title":"Dune"}]}');
    expect(preview).toEqual({ kind: "list", lists: 1, items: 1, titles: ["Books"] });
    expect(describePreview(preview)).toBe("1 list with 1 item");
  });

  it("refuses what is not JSON or not a list", () => {
    expect(previewJson("title,url").kind).toBe("invalid");
    expect(previewJson("[1,2]").kind).toBe("invalid");
    expect(previewJson('{"name":"x"}').kind).toBe("invalid");
  });
});

describe("file names", () => {
  it("tells JSON from CSV by extension or type", () => {
    expect(importKindOf("Export.JSON")).toBe("json");
    expect(importKindOf("list.csv")).toBe("csv");
    expect(importKindOf("download", "text/csv")).toBe("csv");
    expect(importKindOf("notes.txt")).toBeNull();
  });

  it("makes a title of the name without its extension", () => {
    expect(titleFromFileName("gift ideas.csv")).toBe("gift ideas");
    expect(titleFromFileName(".csv")).toBe("Imported list");
  });
});

describe("placeOf", () => {
  it("names rows, lists and items as a person counts them", () => {
    expect(placeOf("row 3.price")).toBe("Row 3, price");
    expect(placeOf("body.wishlists.0.items.2.image_url")).toBe("List 1, item 3, image url");
    expect(placeOf("body.items.0.title")).toBe("Item 1, title");
    expect(placeOf("header")).toBe("Header");
    expect(placeOf("body")).toBe("File");
  });
});

describe("withCurrency", () => {
  it("adds the currency to each row with a price, keeping quotes and row numbers", () => {
    const text = 'title,price,notes\n"Tent, 2-person",189,"say ""hi"""\n\nMug\nPen,2\n';
    expect(withCurrency(text, "EUR")).toBe('title,price,notes,currency\r\n"Tent, 2-person",189,"say ""hi""",EUR\r\n\r\nMug,,,\r\nPen,2,,EUR');
    expect(parseCsv(withCurrency(text, "EUR"))[1]).toEqual(["Tent, 2-person", "189", 'say "hi"', "EUR"]);
  });

  it("leaves a file alone that names currencies itself or has no prices", () => {
    expect(withCurrency("title,price,currency\nA,1,GBP\n", "EUR")).toBe("title,price,currency\nA,1,GBP\n");
    expect(withCurrency("title\nA\n", "EUR")).toBe("title\nA\n");
    expect(previewCsv("title,price,currency\nA,1,GBP\n")).toMatchObject({ needsCurrency: false });
  });
});
