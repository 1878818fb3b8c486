import { describe, expect, it } from "vitest";

import { safeNext } from "./navigation";

describe("safeNext", () => {
  it("keeps a path of this app, with its query and fragment", () => {
    expect(safeNext("/wishlists/42?tab=items#top")).toBe("/wishlists/42?tab=items#top");
  });

  it("falls back when there is nowhere to go", () => {
    expect(safeNext(null)).toBe("/wishlists");
    expect(safeNext("")).toBe("/wishlists");
  });

  it.each([
    "https://evil.example/wishlists",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "http:evil.example",
  ])("never leaves the app for %j", (next) => {
    expect(safeNext(next)).toBe("/wishlists");
  });

  it("reads a decoded tab the way the browser does (the reported /%09/evil.com)", () => {
    const next = new URLSearchParams("next=/%09/evil.com").get("next");
    expect(safeNext(next)).toBe("/wishlists");
  });
});
