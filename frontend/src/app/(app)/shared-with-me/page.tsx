"use client";

import { PageHeader } from "@/components/AppShell";
import { Button } from "@/components/ui/Button";
import { EmptyState, ErrorState, SkeletonList } from "@/components/ui/States";
import { WishlistCard } from "@/components/wishlists/WishlistCard";
import { useSharedWithMe } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";

export default function SharedWithMePage() {
  const lists = useSharedWithMe();
  return (
    <>
      <title>Shared with me · Wishlist</title>
      <PageHeader title="Shared with me" subtitle="Lists friends and family shared with you. Reserve a gift so nobody buys it twice." />
      {lists.error ? (
        <ErrorState message={messageOf(lists.error)} onRetry={() => void lists.mutate()} />
      ) : lists.isLoading ? (
        <SkeletonList label="Loading lists shared with you" />
      ) : lists.items.length === 0 ? (
        <EmptyState title="Nothing shared with you yet">When someone shares a list with your email address, or you open their link, it appears here — live.</EmptyState>
      ) : (
        <>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Lists shared with me">
            {lists.items.map((w) => (
              <WishlistCard key={w.id} wishlist={w} showOwner />
            ))}
          </ul>
          {lists.hasMore && (
            <div className="mt-6 text-center">
              <Button variant="secondary" busy={lists.isLoadingMore} onClick={() => void lists.loadMore()}>
                Show more
              </Button>
            </div>
          )}
        </>
      )}
    </>
  );
}
