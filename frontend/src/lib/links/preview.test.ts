import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useSession } from "@/lib/auth/session";

import { LinkPreviewer, fetchLinkPreview, fillEmpty, previewFailure, previewableUrl, type LinkPreview, type PreviewOutcome } from "./preview";

const page: LinkPreview = {
  url: "https://shop.test/kettle",
  title: "Stovetop kettle",
  image_url: "https://shop.test/kettle.jpg",
  price: "39.90",
  currency: "GBP",
};

const empty = { title: "", imageUrl: "", price: "", currency: "EUR" };

describe("fillEmpty", () => {
  it("fills every field the user left empty, the currency along with the price", () => {
    expect(fillEmpty(empty, page)).toEqual({
      values: { title: "Stovetop kettle", imageUrl: "https://shop.test/kettle.jpg", price: "39.90", currency: "GBP" },
      filled: ["title", "imageUrl", "price", "currency"],
    });
  });

  it("never overwrites what the user typed", () => {
    const typed = { title: "Kettle for Mum", imageUrl: "", price: "35", currency: "EUR" };
    expect(fillEmpty(typed, page)).toEqual({
      values: { title: "Kettle for Mum", imageUrl: "https://shop.test/kettle.jpg", price: "35", currency: "EUR" },
      filled: ["imageUrl"],
    });
  });

  it("treats a field of spaces as empty and skips what the page did not say", () => {
    const preview = { url: "https://shop.test/x", title: "  ", image_url: "javascript:alert(1)", price: "12", currency: null };
    expect(fillEmpty({ ...empty, title: "  " }, preview)).toEqual({
      values: { title: "  ", imageUrl: "", price: "12", currency: "EUR" },
      filled: ["price"],
    });
  });
});

describe("previewableUrl", () => {
  it("accepts web addresses only", () => {
    expect(previewableUrl("  https://shop.test/a?b=1 ")).toBe("https://shop.test/a?b=1");
    expect(previewableUrl("http://127.0.0.1:8080/p")).toBe("http://127.0.0.1:8080/p");
    expect(previewableUrl("https://shop")).toBeNull();
    expect(previewableUrl("shop.test/a")).toBeNull();
    expect(previewableUrl("ftp://shop.test/a")).toBeNull();
    expect(previewableUrl("https://")).toBeNull();
  });
});

describe("fetchLinkPreview through the API", () => {
  beforeEach(() => useSession.setState({ status: "authenticated", accessToken: "token", user: null }));
  afterEach(() => vi.unstubAllGlobals());

  it("posts the link with the access token and returns the details", async () => {
    const seen: { path: string; auth: string | null; body: unknown }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) => {
        seen.push({ path: new URL(request.url).pathname, auth: request.headers.get("authorization"), body: await request.json() });
        return new Response(JSON.stringify(page), { status: 200, headers: { "content-type": "application/json" } });
      }),
    );
    await expect(fetchLinkPreview("https://shop.test/kettle", new AbortController().signal)).resolves.toEqual(page);
    expect(seen).toEqual([{ path: "/api/v1/link-preview", auth: "Bearer token", body: { url: "https://shop.test/kettle" } }]);
  });

  it("turns a refusal into a quiet note", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        new Response(JSON.stringify({ type: "/problems/url-not-allowed", status: 422, title: "URL not allowed" }), {
          status: 422,
          headers: { "content-type": "application/problem+json" },
        }),
      ),
    );
    const error = await fetchLinkPreview("http://10.0.0.1/", new AbortController().signal).catch((e: unknown) => e);
    expect(previewFailure(error)).toBe("Details can’t be read from this kind of link.");
  });
});

describe("LinkPreviewer", () => {
  function deferred() {
    let resolve!: (p: LinkPreview) => void;
    const promise = new Promise<LinkPreview>((r) => (resolve = r));
    return { promise, resolve };
  }

  it("drops the answer for a link the user has since replaced, and cancels its request", async () => {
    const outcomes: PreviewOutcome[] = [];
    const pending = new Map<string, { resolve: (p: LinkPreview) => void; signal: AbortSignal }>();
    const previewer = new LinkPreviewer(
      (o) => outcomes.push(o),
      (url, signal) => {
        const d = deferred();
        pending.set(url, { resolve: d.resolve, signal });
        return d.promise;
      },
    );
    expect(previewer.request("https://shop.test/old")).toBe(true);
    expect(previewer.request("https://shop.test/new")).toBe(true);
    expect(pending.get("https://shop.test/old")?.signal.aborted).toBe(true);
    pending.get("https://shop.test/new")?.resolve({ ...page, title: "New" });
    pending.get("https://shop.test/old")?.resolve({ ...page, title: "Old" });
    await vi.waitFor(() => expect(outcomes).toHaveLength(1));
    await Promise.resolve();
    expect(outcomes).toEqual([{ ok: true, url: "https://shop.test/new", preview: { ...page, title: "New" } }]);
  });

  it("drops a request as soon as the link changes, and asks again if it comes back", async () => {
    const outcomes: PreviewOutcome[] = [];
    const answers: ((p: LinkPreview) => void)[] = [];
    const fetchPreview = vi.fn<(url: string, signal: AbortSignal) => Promise<LinkPreview>>(() => {
      const d = deferred();
      answers.push(d.resolve);
      return d.promise;
    });
    const previewer = new LinkPreviewer((o) => outcomes.push(o), fetchPreview);
    previewer.request("https://shop.test/a");
    previewer.changed("https://shop.test/a"); // the same link: left alone
    expect(fetchPreview.mock.calls[0]?.[1].aborted).toBe(false);
    previewer.changed("https://shop.test/ab"); // typing on: still waiting for the pause
    expect(fetchPreview.mock.calls[0]?.[1].aborted).toBe(true);
    answers[0]?.(page);
    await Promise.resolve();
    expect(outcomes).toEqual([]);
    expect(previewer.request("https://shop.test/a")).toBe(true);
  });

  it("does not look up the same link twice, nor an edited item's own link", () => {
    const fetchPreview = vi.fn(() => new Promise<LinkPreview>(() => undefined));
    const previewer = new LinkPreviewer(() => undefined, fetchPreview, "https://shop.test/mine");
    expect(previewer.request("https://shop.test/mine")).toBe(false);
    expect(previewer.request("https://shop.test/other")).toBe(true);
    expect(previewer.request(" https://shop.test/other ")).toBe(false);
    expect(previewer.request("not a link")).toBe(false);
    previewer.reset();
    expect(previewer.request("https://shop.test/other")).toBe(true);
    expect(fetchPreview).toHaveBeenCalledTimes(2);
  });

  it("reports a failure, but not one it caused by cancelling", async () => {
    const outcomes: PreviewOutcome[] = [];
    const previewer = new LinkPreviewer(
      (o) => outcomes.push(o),
      (url, signal) =>
        new Promise<LinkPreview>((_, reject) => {
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
          if (url.endsWith("broken")) reject(new Error("502"));
        }),
    );
    previewer.request("https://shop.test/slow");
    previewer.cancel();
    previewer.request("https://shop.test/broken");
    await vi.waitFor(() => expect(outcomes).toHaveLength(1));
    expect(outcomes[0]).toMatchObject({ ok: false, url: "https://shop.test/broken" });
  });
});
