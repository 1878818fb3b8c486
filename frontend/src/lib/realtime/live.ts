/**
 * The live connection: notifications pushed over the gateway's WebSocket.
 *
 * A browser cannot put a token on a WebSocket, so each connection first
 * takes a single-use ticket. Each (re)connection asks the gateway to replay
 * what came after the newest notification this tab has (`after=`), so a
 * dropped connection loses nothing and shows nothing twice. How to react to
 * each close code is the gateway's contract (gateway/README.md).
 */
import { create } from "zustand";

import { api, data } from "@/lib/api/client";
import type { Notification } from "@/lib/api/types";
import { refreshAccessToken } from "@/lib/auth/session";
import { useInbox } from "@/lib/notifications/store";

export type LiveStatus = "connecting" | "live" | "offline";

export const useLiveStatus = create<{ status: LiveStatus }>()(() => ({ status: "connecting" }));

const MAX_BACKOFF_MS = 30_000;

interface Options {
  onNotification: (notification: Notification, isNew: boolean) => void;
}

function socketUrl(ticket: string, after: string | null): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({ ticket });
  if (after) query.set("after", after);
  return `${scheme}//${window.location.host}/ws?${query.toString()}`;
}

/** Connects and keeps connecting until the returned function is called. */
export function startLive({ onNotification }: Options): () => void {
  let stopped = false;
  let socket: WebSocket | null = null;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const setStatus = (status: LiveStatus) => useLiveStatus.setState({ status });

  const retryLater = () => {
    setStatus("offline");
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
    failures += 1;
    // Jittered, so a gateway restart is not met by every client at once.
    timer = setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  };

  async function connect(): Promise<void> {
    clearTimeout(timer);
    if (stopped) return;
    setStatus("connecting");
    let ticket: string;
    try {
      if (!useInbox.getState().loaded) await useInbox.getState().load();
      ticket = (await data(api.POST("/api/v1/realtime/ticket"))).ticket;
    } catch {
      retryLater();
      return;
    }
    if (stopped) return;
    const ws = new WebSocket(socketUrl(ticket, useInbox.getState().newestId));
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      setStatus("live");
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      let message: { type?: string; notification?: Notification };
      try {
        message = JSON.parse(event.data) as typeof message;
      } catch {
        return;
      }
      if (message.type === "notification" && message.notification) {
        const isNew = useInbox.getState().received(message.notification);
        onNotification(message.notification, isNew);
      }
    };
    ws.onclose = (event) => {
      if (socket === ws) socket = null;
      if (stopped) return;
      void reconnectAfter(event.code);
    };
  }

  async function reconnectAfter(code: number): Promise<void> {
    switch (code) {
      case 4401: {
        // The token died (expired, logged out elsewhere): a new one, or stop.
        const token = await refreshAccessToken().catch(() => undefined);
        if (token === null) {
          stopped = true;
          setStatus("offline");
          return;
        }
        if (token === undefined) retryLater();
        else void connect();
        return;
      }
      case 4008:
        void connect();
        return;
      case 4404:
      case 4400:
        // The resume point is unknown to the server: start over from REST.
        useInbox.getState().reset();
        void connect();
        return;
      default:
        retryLater();
    }
  }

  const onOnline = () => {
    if (socket === null) void connect();
  };
  window.addEventListener("online", onOnline);
  void connect();

  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener("online", onOnline);
    socket?.close(1000, "bye");
    socket = null;
  };
}
