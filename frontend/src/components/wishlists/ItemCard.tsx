import type { ReactNode } from "react";

import type { Item } from "@/lib/api/types";
import { formatPrice } from "@/lib/format";

import { PRIORITIES } from "./ItemForm";

/** One item as everybody sees it; the owner's and the viewer's controls come in `actions`. */
export function ItemCard({ item, actions, status }: { item: Item; actions?: ReactNode; status?: ReactNode }) {
  const price = formatPrice(item.price, item.currency);
  let host: string | null = null;
  try {
    host = item.url ? new URL(item.url).hostname.replace(/^www\./, "") : null;
  } catch {
    host = null;
  }
  return (
    <li data-testid="item" className="flex flex-col gap-4 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-zinc-200 sm:flex-row sm:items-center dark:bg-zinc-900 dark:ring-zinc-800">
      <div className="flex min-w-0 flex-1 gap-4">
        <div className="size-16 shrink-0 overflow-hidden rounded-xl bg-zinc-100 dark:bg-zinc-800">
          {item.image_url ? (
            // eslint-disable-next-line @next/next/no-img-element -- pictures come from any shop's site; next/image would need every host listed.
            <img src={item.image_url} alt="" className="size-full object-cover" loading="lazy" referrerPolicy="no-referrer" />
          ) : (
            <svg viewBox="0 0 24 24" className="m-auto size-full p-4 text-zinc-400" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
              <rect x="3" y="8" width="18" height="13" rx="2" />
              <path d="M3 12h18M12 8v13" />
            </svg>
          )}
        </div>
        <div className="min-w-0 flex-1">
          <h3 className="font-semibold break-words">{item.title}</h3>
          <p className="mt-0.5 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm text-zinc-600 dark:text-zinc-400">
            {price && <span className="font-medium text-zinc-900 dark:text-zinc-100">{price}</span>}
            {item.quantity > 1 && <span>× {item.quantity}</span>}
            <span>{PRIORITIES[item.priority] ?? `Priority ${item.priority}`}</span>
            {host && item.url && (
              <a href={item.url} target="_blank" rel="noopener noreferrer nofollow" className="text-accent-600 hover:underline dark:text-accent-400">
                {host} ↗
              </a>
            )}
          </p>
          {item.notes && <p className="mt-1 text-sm whitespace-pre-line text-zinc-600 dark:text-zinc-400">{item.notes}</p>}
          {status && <div className="mt-2">{status}</div>}
        </div>
      </div>
      {actions && <div className="flex shrink-0 flex-wrap items-center gap-2">{actions}</div>}
    </li>
  );
}

export function byPriority<T extends Item>(items: T[]): T[] {
  return [...items].sort((a, b) => b.priority - a.priority || a.created_at.localeCompare(b.created_at));
}
