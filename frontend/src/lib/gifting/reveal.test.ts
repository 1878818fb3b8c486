import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "@/lib/api/problems";

import { revealList } from "./reveal";

const LIST = "11111111-1111-1111-1111-111111111111";

const problem = (status: number, type: string) =>
  new Response(JSON.stringify({ type, title: "Refused", status, detail: "no" }), { status, headers: { "content-type": "application/problem+json" } });

const revealed = { revealed_at: "2026-12-01T10:00:00Z", wishlist: {}, received: [], suggestions: [] };

/** Answers a reveal like the server: refused before the occasion unless `early`. */
function server(occasionPassed: boolean) {
  const bodies: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const body = (await request.json()) as { early?: boolean };
      bodies.push(body);
      if (!occasionPassed && !body.early) return problem(409, "https://wishlist.example/problems/reveal-before-occasion");
      return Response.json(revealed);
    }),
  );
  return bodies;
}

describe("revealing a list", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("reveals at once after the occasion", async () => {
    const sent = server(true);
    await expect(revealList(LIST, { early: false, nextOccasionDate: "2027-12-24" })).resolves.toEqual({ status: "revealed", reveal: revealed });
    expect(sent).toEqual([{ early: false, next_occasion_date: "2027-12-24" }]);
  });

  it("turns a refusal before the occasion into a question, and reveals once confirmed", async () => {
    const sent = server(false);
    await expect(revealList(LIST, { early: false, nextOccasionDate: null })).resolves.toEqual({ status: "too-early" });
    await expect(revealList(LIST, { early: true, nextOccasionDate: null })).resolves.toMatchObject({ status: "revealed" });
    expect(sent).toEqual([{ early: false }, { early: true }]);
  });

  it("lets any other refusal through as an error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => problem(409, "https://wishlist.example/problems/limit-reached")));
    await expect(revealList(LIST, { early: false, nextOccasionDate: null })).rejects.toBeInstanceOf(ApiError);
  });
});
