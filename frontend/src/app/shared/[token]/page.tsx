"use client";

import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useState } from "react";

import { Logo } from "@/components/Logo";
import { Button } from "@/components/ui/Button";
import { EmptyState, ErrorState, SkeletonList } from "@/components/ui/States";
import { toastError } from "@/components/ui/Toasts";
import { ItemCard, byPriority } from "@/components/wishlists/ItemCard";
import { api, data } from "@/lib/api/client";
import { usePublicList } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import { useSession } from "@/lib/auth/session";
import { formatDate } from "@/lib/format";

/** A list opened by its link: readable by anyone; joining (to reserve) needs an account. */
export default function PublicListPage() {
  const { token } = useParams<{ token: string }>();
  const list = usePublicList(token);
  const session = useSession();
  const router = useRouter();
  const [joining, setJoining] = useState(false);
  const here = `/shared/${token}`;

  async function join() {
    setJoining(true);
    try {
      const joined = await data(api.POST("/api/v1/shared/{token}/join", { params: { path: { token } } }));
      router.push(`/wishlists/${joined.id}`);
    } catch (error) {
      toastError(messageOf(error));
      setJoining(false);
    }
  }

  const w = list.data;
  const isOwner = w && session.user?.id === w.owner_id;

  return (
    <div className="min-h-dvh">
      <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-950">
        <div className="mx-auto flex h-16 max-w-3xl items-center justify-between px-4">
          <Logo href="/" />
          {session.status === "anonymous" && (
            <Link href={`/login?next=${encodeURIComponent(here)}`} className="text-sm font-medium text-accent-600 hover:underline dark:text-accent-400">
              Log in
            </Link>
          )}
        </div>
      </header>
      <main className="mx-auto max-w-3xl px-4 py-8">
        {list.error ? (
          list.error.status === 404 ? (
            <EmptyState title="This link does not work">It was turned off or replaced by the list’s owner. Ask them for a new one.</EmptyState>
          ) : (
            <ErrorState message={messageOf(list.error)} onRetry={() => void list.mutate()} />
          )
        ) : !w ? (
          <SkeletonList rows={4} label="Loading the list" />
        ) : (
          <>
            <title>{`${w.title} · Wishlist`}</title>
            <p className="text-sm text-zinc-600 dark:text-zinc-400">{w.owner_display_name ?? "Someone"} shared a wishlist</p>
            <h1 className="mt-1 text-2xl font-bold tracking-tight break-words sm:text-3xl">{w.title}</h1>
            {w.occasion_date && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{formatDate(w.occasion_date)}</p>}
            {w.description && <p className="mt-3 whitespace-pre-line text-zinc-700 dark:text-zinc-300">{w.description}</p>}
            <div className="my-6 rounded-2xl bg-accent-50 p-4 text-sm dark:bg-accent-700/20">
              {isOwner ? (
                <p>
                  This is your list, as your friends see it through the link.{" "}
                  <Link href={`/wishlists/${w.id}`} className="font-medium text-accent-700 hover:underline dark:text-accent-100">
                    Open it
                  </Link>
                </p>
              ) : session.status === "authenticated" ? (
                <div className="flex flex-wrap items-center justify-between gap-3">
                  <p>Join the list to reserve a gift, so nobody buys it twice.</p>
                  <Button busy={joining} onClick={() => void join()}>
                    Join this list
                  </Button>
                </div>
              ) : (
                <div className="flex flex-wrap items-center justify-between gap-3">
                  <p>Log in or create an account to reserve a gift. The owner never sees who reserved what.</p>
                  <Link href={`/login?next=${encodeURIComponent(here)}`} className="rounded-lg bg-accent-600 px-4 py-2 font-medium text-white hover:bg-accent-700">
                    Log in to join
                  </Link>
                </div>
              )}
            </div>
            {w.items.length === 0 ? (
              <EmptyState title="Nothing on this list yet" />
            ) : (
              <ul className="space-y-3">
                {byPriority(w.items).map((item) => (
                  <ItemCard key={item.id} item={item} />
                ))}
              </ul>
            )}
          </>
        )}
      </main>
    </div>
  );
}
