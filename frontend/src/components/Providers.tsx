"use client";

import { useEffect, type ReactNode } from "react";
import { SWRConfig, useSWRConfig } from "swr";

import { keys, refreshPaged } from "@/lib/api/hooks";
import type { Notification } from "@/lib/api/types";
import { restoreSession } from "@/lib/auth/actions";
import { useSession } from "@/lib/auth/session";
import { useInbox } from "@/lib/notifications/store";
import { startLive } from "@/lib/realtime/live";

import { Toasts } from "./ui/Toasts";

/** Keeps the socket open while signed in, and refreshes what each notification touches. */
function LiveUpdates() {
  const userId = useSession((s) => (s.status === "authenticated" ? s.user?.id : null));
  const { mutate } = useSWRConfig();

  useEffect(() => {
    if (!userId) return;
    const touches = (n: Notification) => {
      const list = n.data.wishlist as { id?: string } | undefined;
      if (list?.id) void mutate(keys.wishlist(list.id));
      if (n.kind === "wishlist_shared") void refreshPaged(keys.sharedWithMe);
      if (n.kind === "reserved_item_removed" || n.kind === "item_received" || n.kind === "wishlist_revealed") void refreshPaged(keys.reservations);
      if (list?.id && (n.kind === "item_received" || n.kind === "wishlist_revealed")) void refreshPaged(keys.archive(list.id));
      if (n.kind === "added_to_group") {
        const group = n.data.group as { id?: string } | undefined;
        void refreshPaged(keys.groups);
        if (group?.id) void mutate(keys.group(group.id));
      }
    };
    const stop = startLive({ onNotification: (n, isNew) => isNew && touches(n) });
    return () => {
      stop();
      useInbox.getState().reset();
    };
  }, [userId, mutate]);

  return null;
}

function SessionRestore() {
  useEffect(() => {
    void restoreSession();
  }, []);
  return null;
}

export function Providers({ children }: { children: ReactNode }) {
  return (
    <SWRConfig
      value={{
        // 4xx answers (a 404 for a list that is gone) will not change by asking again.
        shouldRetryOnError: (error: { status?: number }) => !error.status || error.status >= 500,
        revalidateOnFocus: true,
        dedupingInterval: 2000,
      }}
    >
      <SessionRestore />
      <LiveUpdates />
      {children}
      <Toasts />
    </SWRConfig>
  );
}
