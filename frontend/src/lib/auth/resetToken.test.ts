import { describe, expect, it } from "vitest";

import { tokenFromFragment } from "./resetToken";

describe("tokenFromFragment", () => {
  it("reads the token of a reset link's fragment", () => {
    expect(tokenFromFragment("#token=abc-DEF_123")).toBe("abc-DEF_123");
  });

  it("decodes what the email percent-encoded", () => {
    expect(tokenFromFragment("#token=a%2Bb%3D%3D")).toBe("a+b==");
  });

  it("finds the token among other parameters", () => {
    expect(tokenFromFragment("#from=email&token=xyz")).toBe("xyz");
  });

  it("says there is none when the fragment is missing, empty or about something else", () => {
    expect(tokenFromFragment("")).toBeNull();
    expect(tokenFromFragment("#")).toBeNull();
    expect(tokenFromFragment("#token=")).toBeNull();
    expect(tokenFromFragment("#section-2")).toBeNull();
  });
});
