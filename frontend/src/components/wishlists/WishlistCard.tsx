import Link from "next/link";

import type { Wishlist } from "@/lib/api/types";
import { daysUntil, formatDate } from "@/lib/format";

import { Badge } from "../ui/States";

export function WishlistCard({ wishlist, showOwner = false }: { wishlist: Wishlist; showOwner?: boolean }) {
  const days = daysUntil(wishlist.occasion_date);
  return (
    <li>
      <Link
        href={`/wishlists/${wishlist.id}`}
        className="group flex h-full flex-col rounded-2xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 transition hover:shadow-md hover:ring-accent-400 dark:bg-zinc-900 dark:ring-zinc-800"
      >
        <div className="flex items-start justify-between gap-3">
          <h2 className="text-base font-semibold break-words group-hover:text-accent-700 dark:group-hover:text-accent-400">{wishlist.title}</h2>
          {days !== null && days >= 0 && days <= 30 && <Badge tone="accent">{days === 0 ? "Today" : `in ${days} d`}</Badge>}
        </div>
        {showOwner && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">by {wishlist.owner_display_name ?? "a former member"}</p>}
        {wishlist.description && <p className="mt-2 line-clamp-2 text-sm text-zinc-600 dark:text-zinc-400">{wishlist.description}</p>}
        <p className="mt-auto pt-4 text-xs text-zinc-500">{formatDate(wishlist.occasion_date) ?? "No date set"}</p>
      </Link>
    </li>
  );
}
