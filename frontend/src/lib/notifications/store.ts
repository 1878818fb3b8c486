/**
 * The notification inbox as the bell shows it: the newest page and the unread count.
 *
 * Filled once over REST, then kept current by the socket. Notifications are
 * kept by id, so one that arrives twice (replayed after a reconnect, or
 * pushed while the REST page was loading) is shown once and counted once.
 */
import { create } from "zustand";

import { api, data } from "@/lib/api/client";
import type { Notification } from "@/lib/api/types";

const KEEP = 50;

interface InboxState {
  loaded: boolean;
  items: Notification[];
  unread: number;
  /** Id of the newest notification seen: where a socket resumes (`after=`). */
  newestId: string | null;
  load: () => Promise<void>;
  received: (notification: Notification) => boolean;
  markRead: (id: string) => Promise<void>;
  markAllRead: () => Promise<void>;
  reset: () => void;
}

function newestFirst(items: Notification[]): Notification[] {
  return [...items].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, KEEP);
}

const empty = { loaded: false, items: [], unread: 0, newestId: null };

export const useInbox = create<InboxState>()((set, get) => ({
  ...empty,

  async load() {
    const [page, count] = await Promise.all([
      data(api.GET("/api/v1/notifications", { params: { query: { limit: KEEP } } })),
      data(api.GET("/api/v1/notifications/unread-count")),
    ]);
    set((state) => {
      // Pushed meanwhile: keep what the page does not have yet.
      const known = new Set(page.items.map((n) => n.id));
      const pushed = state.items.filter((n) => !known.has(n.id));
      const items = newestFirst([...pushed, ...page.items]);
      return {
        loaded: true,
        items,
        unread: count.count + pushed.filter((n) => !n.read).length,
        newestId: items[0]?.id ?? state.newestId,
      };
    });
  },

  received(notification) {
    if (get().items.some((n) => n.id === notification.id)) {
      set({ newestId: notification.id });
      return false;
    }
    set((state) => ({
      items: newestFirst([notification, ...state.items]),
      unread: state.unread + (notification.read ? 0 : 1),
      newestId: notification.id,
    }));
    return true;
  },

  async markRead(id) {
    const before = get();
    const target = before.items.find((n) => n.id === id);
    if (!target || target.read) return;
    set({
      items: before.items.map((n) => (n.id === id ? { ...n, read: true } : n)),
      unread: Math.max(0, before.unread - 1),
    });
    try {
      await data(
        api.POST("/api/v1/notifications/{notification_id}/read", {
          params: { path: { notification_id: id } },
        }),
      );
    } catch (error) {
      set((state) => ({
        items: state.items.map((n) => (n.id === id ? { ...n, read: false } : n)),
        unread: state.unread + 1,
      }));
      throw error;
    }
  },

  async markAllRead() {
    const before = get();
    set({ items: before.items.map((n) => ({ ...n, read: true })), unread: 0 });
    try {
      await data(api.POST("/api/v1/notifications/read-all"));
    } catch (error) {
      set({ items: before.items, unread: before.unread });
      throw error;
    }
  },

  reset() {
    set(empty);
  },
}));
