"use client";

import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";

import { messageOf } from "@/lib/api/problems";
import { useInbox } from "@/lib/notifications/store";
import { render } from "@/lib/notifications/text";
import { useLiveStatus } from "@/lib/realtime/live";

import { toastError } from "./ui/Toasts";

function timeAgo(iso: string): string {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function NotificationBell() {
  const { items, unread, loaded, markRead, markAllRead } = useInbox();
  const live = useLiveStatus((s) => s.status);
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const label = unread > 0 ? `Notifications, ${unread} unread` : "Notifications";

  return (
    <div ref={root} className="relative">
      <button
        type="button"
        aria-label={label}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((v) => !v)}
        className="relative rounded-full p-2 text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        <svg viewBox="0 0 24 24" className="size-6" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
          <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9Z" strokeLinejoin="round" />
          <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" strokeLinecap="round" />
        </svg>
        {/* Fixed size and absolutely placed: a count arriving moves nothing. */}
        <span
          data-testid="unread-count"
          aria-hidden="true"
          className={`absolute -top-0.5 -right-0.5 flex h-5 min-w-5 items-center justify-center rounded-full bg-accent-600 px-1 text-[11px] font-semibold text-white tabular-nums ${unread > 0 ? "" : "invisible"}`}
        >
          {unread > 99 ? "99+" : unread}
        </span>
        <span
          aria-hidden="true"
          title={live === "live" ? "Live" : "Reconnecting…"}
          className={`absolute bottom-1 right-1 size-2 rounded-full ring-2 ring-white dark:ring-zinc-950 ${live === "live" ? "bg-emerald-500" : "bg-zinc-400"}`}
        />
      </button>
      {open && (
        <div
          id={panelId}
          role="region"
          aria-label="Notifications"
          className="fixed inset-x-2 top-16 z-40 overflow-hidden rounded-2xl bg-white shadow-xl ring-1 ring-zinc-200 sm:absolute sm:inset-x-auto sm:right-0 sm:top-12 sm:w-96 dark:bg-zinc-900 dark:ring-zinc-800"
        >
          <div className="flex items-center justify-between border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
            <h2 className="font-semibold">Notifications</h2>
            <button
              type="button"
              disabled={unread === 0}
              onClick={() => markAllRead().catch((e: unknown) => toastError(messageOf(e)))}
              className="text-sm font-medium text-accent-600 disabled:text-zinc-400 dark:text-accent-400"
            >
              Mark all read
            </button>
          </div>
          <ul className="max-h-[60vh] divide-y divide-zinc-100 overflow-y-auto dark:divide-zinc-800">
            {!loaded && <li className="px-4 py-6 text-center text-sm text-zinc-500">Loading…</li>}
            {loaded && items.length === 0 && (
              <li className="px-4 py-10 text-center text-sm text-zinc-500">Nothing yet. When friends share lists or add gifts, you will see it here.</li>
            )}
            {items.map((n) => {
              const { text, href } = render(n);
              const onOpen = () => {
                setOpen(false);
                if (!n.read) markRead(n.id).catch(() => undefined);
              };
              const body = (
                <>
                  <span className={`mt-1.5 size-2 shrink-0 rounded-full ${n.read ? "bg-transparent" : "bg-accent-500"}`} aria-hidden="true" />
                  <span className="flex-1">
                    <span className={`block text-sm ${n.read ? "text-zinc-600 dark:text-zinc-400" : "font-medium"}`}>{text}</span>
                    <span className="mt-0.5 block text-xs text-zinc-500">{timeAgo(n.created_at)}</span>
                  </span>
                  {!n.read && <span className="sr-only">(unread)</span>}
                </>
              );
              return (
                <li key={n.id} data-testid="notification">
                  {href ? (
                    <Link href={href} onClick={onOpen} className="flex gap-3 px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-800/60">
                      {body}
                    </Link>
                  ) : (
                    <button type="button" onClick={onOpen} className="flex w-full gap-3 px-4 py-3 text-left hover:bg-zinc-50 dark:hover:bg-zinc-800/60">
                      {body}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
      <span className="sr-only" aria-live="polite">
        {unread > 0 ? `${unread} unread notifications` : ""}
      </span>
    </div>
  );
}
