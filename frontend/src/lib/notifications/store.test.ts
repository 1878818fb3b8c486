import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Notification } from "@/lib/api/types";

import { useInbox } from "./store";

function notification(id: string, minute: number, read = false): Notification {
  return { id, kind: "item_added", created_at: `2026-11-30T10:${String(minute).padStart(2, "0")}:00Z`, read, data: {} };
}

function respond(routes: Record<string, unknown>, failing: string[] = []) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (failing.includes(path)) return new Response("{}", { status: 503, headers: { "content-type": "application/json" } });
      const body = routes[path];
      return body === undefined ? new Response(null, { status: 204 }) : Response.json(body);
    }),
  );
}

describe("the inbox", () => {
  beforeEach(() => useInbox.getState().reset());
  afterEach(() => vi.unstubAllGlobals());

  it("shows and counts a notification once, however often it arrives", () => {
    const inbox = useInbox.getState();
    expect(inbox.received(notification("a", 1))).toBe(true);
    expect(useInbox.getState().received(notification("a", 1))).toBe(false);
    expect(useInbox.getState()).toMatchObject({ unread: 1, newestId: "a" });
    expect(useInbox.getState().items).toHaveLength(1);
  });

  it("keeps what was pushed while the first page was loading, and counts it", async () => {
    useInbox.getState().received(notification("pushed", 5));
    respond({
      "/api/v1/notifications": { items: [notification("pushed", 5), notification("older", 1, true)], next_cursor: null },
      "/api/v1/notifications/unread-count": { count: 1 },
    });
    await useInbox.getState().load();
    const state = useInbox.getState();
    expect(state.items.map((n) => n.id)).toEqual(["pushed", "older"]);
    expect(state.unread).toBe(1);
    expect(state.newestId).toBe("pushed");
  });

  it("takes back an optimistic read when the server refuses it", async () => {
    useInbox.getState().received(notification("a", 1));
    respond({}, ["/api/v1/notifications/a/read"]);
    await expect(useInbox.getState().markRead("a")).rejects.toThrow();
    expect(useInbox.getState()).toMatchObject({ unread: 1 });
    expect(useInbox.getState().items[0]?.read).toBe(false);
  });
});
