import { describe, expect, it } from "vitest";

import { defaultExportName, filenameFromDisposition } from "./download";

describe("filenameFromDisposition", () => {
  it("reads a quoted or bare filename", () => {
    expect(filenameFromDisposition('attachment; filename="wishlists-export-2026-11-30.json"')).toBe("wishlists-export-2026-11-30.json");
    expect(filenameFromDisposition("attachment; filename=export.json")).toBe("export.json");
  });

  it("prefers the UTF-8 name", () => {
    expect(filenameFromDisposition("attachment; filename=\"export.json\"; filename*=UTF-8''Z%C3%BCrich%20lists.json")).toBe("Zürich lists.json");
  });

  it("keeps only the name of a path", () => {
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"')).toBe("passwd");
  });

  it("has nothing to say without a name", () => {
    expect(filenameFromDisposition(null)).toBeNull();
    expect(filenameFromDisposition("attachment")).toBeNull();
  });
});

describe("defaultExportName", () => {
  it("names the day", () => {
    expect(defaultExportName(new Date(2026, 0, 5, 23, 59))).toBe("wishlists-export-2026-01-05.json");
  });
});
