import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Notification } from "@/lib/api/types";
import { useSession } from "@/lib/auth/session";
import { useInbox } from "@/lib/notifications/store";

import { startLive } from "./live";

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  readonly query: URLSearchParams;

  constructor(readonly url: string) {
    this.query = new URL(url).searchParams;
    FakeSocket.all.push(this);
  }
  open() {
    this.onopen?.();
  }
  push(notification: Notification) {
    this.onmessage?.({ data: JSON.stringify({ type: "notification", notification }) });
  }
  drop(code: number) {
    this.onclose?.({ code });
  }
  close() {}
}

const first: Notification = { id: "n1", kind: "item_added", created_at: "2026-11-30T10:00:00Z", read: false, data: {} };
const second: Notification = { ...first, id: "n2", created_at: "2026-11-30T10:01:00Z" };

let refreshes = 0;
let tickets = 0;

async function socketNumber(n: number): Promise<FakeSocket> {
  await vi.waitFor(() => expect(FakeSocket.all.length).toBeGreaterThanOrEqual(n));
  return FakeSocket.all[n - 1]!;
}

describe("the live connection", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    refreshes = 0;
    tickets = 0;
    useInbox.getState().reset();
    useSession.setState({ status: "authenticated", accessToken: "t", user: null });
    vi.stubGlobal("WebSocket", FakeSocket);
    vi.stubGlobal("window", {
      location: { protocol: "https:", host: "app.test", origin: "https://app.test" },
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string) => {
        const path = typeof input === "string" ? input : new URL(input.url).pathname;
        if (path === "/api/v1/auth/refresh") {
          refreshes += 1;
          return Response.json({ access_token: `t${refreshes}`, refresh_token: null, token_type: "bearer", expires_in: 900 });
        }
        if (path === "/api/v1/realtime/ticket") return Response.json({ ticket: `ticket-${++tickets}`, expires_in: 30 });
        if (path === "/api/v1/notifications/unread-count") return Response.json({ count: 1 });
        return Response.json({ items: [first], next_cursor: null });
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("resumes after the newest notification it has, on a fresh ticket each time", async () => {
    const received: string[] = [];
    const stop = startLive({ onNotification: (n, isNew) => isNew && received.push(n.id) });
    const socket = await socketNumber(1);
    expect(socket.url.startsWith("wss://app.test/ws?")).toBe(true);
    expect(socket.query.get("after")).toBe("n1");
    socket.open();
    socket.push(second);
    socket.drop(4008);
    const again = await socketNumber(2);
    expect(again.query.get("after")).toBe("n2");
    expect(again.query.get("ticket")).not.toBe(socket.query.get("ticket"));
    // The replay may repeat what the first socket delivered: shown once all the same.
    again.push(second);
    expect(received).toEqual(["n2"]);
    expect(useInbox.getState().unread).toBe(2);
    stop();
  });

  it("renews the access token when the gateway says it expired (4401), then reconnects", async () => {
    const stop = startLive({ onNotification: () => undefined });
    (await socketNumber(1)).drop(4401);
    await socketNumber(2);
    expect(refreshes).toBe(1);
    expect(useSession.getState().accessToken).toBe("t1");
    stop();
  });

  it("starts over from the inbox when the resume point is unknown (4404)", async () => {
    const stop = startLive({ onNotification: () => undefined });
    const socket = await socketNumber(1);
    socket.open();
    socket.push(second);
    socket.drop(4404);
    const again = await socketNumber(2);
    // Reloaded from REST: the newest it knows is the server's, not the lost one.
    expect(again.query.get("after")).toBe("n1");
    stop();
  });
});
