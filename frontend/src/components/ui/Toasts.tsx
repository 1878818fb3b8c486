"use client";

import { create } from "zustand";

interface Toast {
  id: number;
  text: string;
  tone: "info" | "error";
}

interface ToastState {
  toasts: Toast[];
  show: (text: string, tone?: Toast["tone"]) => void;
  dismiss: (id: number) => void;
}

let next = 1;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  show(text, tone = "info") {
    const id = next++;
    set({ toasts: [...get().toasts, { id, text, tone }].slice(-3) });
    setTimeout(() => get().dismiss(id), 5000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export function toastError(text: string) {
  useToasts.getState().show(text, "error");
}

/** Fixed to the corner, over the page: a toast never pushes content around. */
export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div aria-live="polite" className="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex flex-col items-center gap-2 px-4 sm:items-end">
      {toasts.map((t) => (
        <div
          key={t.id}
          role={t.tone === "error" ? "alert" : "status"}
          className={`pointer-events-auto flex max-w-sm items-start gap-3 rounded-xl px-4 py-3 text-sm shadow-lg ring-1 ${
            t.tone === "error"
              ? "bg-red-50 text-red-900 ring-red-200 dark:bg-red-950 dark:text-red-100 dark:ring-red-900"
              : "bg-white text-zinc-900 ring-zinc-200 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-800"
          }`}
        >
          <span className="flex-1">{t.text}</span>
          <button type="button" onClick={() => dismiss(t.id)} aria-label="Dismiss" className="text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
