"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { PageHeader } from "@/components/AppShell";
import { Button, buttonClass } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { EmptyState, ErrorState, SkeletonList } from "@/components/ui/States";
import { WishlistCard } from "@/components/wishlists/WishlistCard";
import { WishlistForm } from "@/components/wishlists/WishlistForm";
import { api, data } from "@/lib/api/client";
import { useMyLists } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";

export default function MyListsPage() {
  const lists = useMyLists();
  const router = useRouter();
  const [creating, setCreating] = useState(false);

  const newList = (
    <Button onClick={() => setCreating(true)}>
      <span aria-hidden="true">+</span> New list
    </Button>
  );

  return (
    <>
      <title>My lists · Wishlist</title>
      <PageHeader
        title="My lists"
        subtitle="Lists you keep. Friends you share them with can reserve gifts without you ever knowing."
        actions={
          <>
            <Link href="/wishlists/import" className={buttonClass("secondary")}>
              Import
            </Link>
            {newList}
          </>
        }
      />
      {lists.error ? (
        <ErrorState message={messageOf(lists.error)} onRetry={() => void lists.mutate()} />
      ) : lists.isLoading ? (
        <SkeletonList label="Loading your lists" />
      ) : lists.items.length === 0 ? (
        <EmptyState title="No lists yet" action={newList}>
          Start one for a birthday, a wedding, or just because.
        </EmptyState>
      ) : (
        <>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {lists.items.map((w) => (
              <WishlistCard key={w.id} wishlist={w} />
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
      <Dialog open={creating} title="New list" onClose={() => setCreating(false)}>
        <WishlistForm
          submitLabel="Create list"
          onCancel={() => setCreating(false)}
          onSubmit={async (values) => {
            const created = await data(api.POST("/api/v1/wishlists", { body: values }));
            router.push(`/wishlists/${created.id}`);
            setCreating(false);
            void lists.mutate();
          }}
        />
      </Dialog>
    </>
  );
}
