"use client";

import { useArchive } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import type { WishlistDetail } from "@/lib/api/types";
import { giversText } from "@/lib/gifting/names";
import { formatDate } from "@/lib/format";

import { Button } from "../ui/Button";
import { Badge, EmptyState, ErrorState, SkeletonList } from "../ui/States";
import { ItemCard } from "./ItemCard";

/** Received items, newest first. The owner sees who gave them once a reveal uncovered it; viewers never get that. */
export function Archive({ wishlist }: { wishlist: WishlistDetail }) {
  const archive = useArchive(wishlist.id, true);
  if (archive.error) return <ErrorState message={messageOf(archive.error)} onRetry={() => void archive.mutate()} />;
  if (archive.isLoading) return <SkeletonList rows={2} label="Loading the archive" />;
  return (
    <section aria-labelledby="archive-heading">
      <h2 id="archive-heading" className="mb-4 text-lg font-semibold">
        Received <span className="text-zinc-500 tabular-nums">({archive.items.length})</span>
      </h2>
      {archive.items.length === 0 ? (
        <EmptyState title="Nothing received yet">Items marked received, and those a reveal uncovered, are kept here.</EmptyState>
      ) : (
        <ul className="space-y-3" aria-label="Archive">
          {archive.items.map((item) => (
            <ItemCard
              key={item.id}
              item={item}
              status={
                <div className="flex flex-wrap items-center gap-2" data-testid="received">
                  <Badge tone="green">Received{item.received_at ? ` ${formatDate(item.received_at)}` : ""}</Badge>
                  {"given_by" in item && <span className="text-xs text-zinc-600 dark:text-zinc-400">{giversText(item.given_by)}</span>}
                </div>
              }
            />
          ))}
        </ul>
      )}
      {archive.hasMore && (
        <div className="mt-6 text-center">
          <Button variant="secondary" busy={archive.isLoadingMore} onClick={() => void archive.loadMore()}>
            Show more
          </Button>
        </div>
      )}
    </section>
  );
}
