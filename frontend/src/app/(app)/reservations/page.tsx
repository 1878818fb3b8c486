"use client";

import Link from "next/link";

import { PageHeader } from "@/components/AppShell";
import { Button } from "@/components/ui/Button";
import { Badge, EmptyState, ErrorState, SkeletonList } from "@/components/ui/States";
import { toastError } from "@/components/ui/Toasts";
import { api, data } from "@/lib/api/client";
import { useReservations } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import type { Page, Reservation } from "@/lib/api/types";
import { formatDate, formatPrice } from "@/lib/format";

export default function ShoppingListPage() {
  const reservations = useReservations();

  async function change(target: Reservation, patch: { purchased: boolean } | { show_name: boolean }) {
    const next = reservations.items.map((r) => (r.id === target.id ? { ...r, ...patch } : r));
    try {
      await reservations.mutate(
        data(api.PATCH("/api/v1/reservations/{reservation_id}", { params: { path: { reservation_id: target.id } }, body: patch })).then(() => undefined),
        { optimisticData: [{ items: next, next_cursor: null }] as Page<Reservation>[], rollbackOnError: true, populateCache: false, revalidate: true },
      );
    } catch (error) {
      toastError(`Could not update “${target.item.title}”: ${messageOf(error)}`);
    }
  }

  const open = reservations.items.filter((r) => !r.purchased).length;

  return (
    <>
      <title>Shopping list · Wishlist</title>
      <PageHeader title="Shopping list" subtitle={reservations.items.length > 0 ? `${open} still to buy` : "Everything you reserved, in one place."} />
      {reservations.error ? (
        <ErrorState message={messageOf(reservations.error)} onRetry={() => void reservations.mutate()} />
      ) : reservations.isLoading ? (
        <SkeletonList label="Loading your shopping list" />
      ) : reservations.items.length === 0 ? (
        <EmptyState
          title="Nothing reserved yet"
          action={
            <Link href="/shared-with-me" className="font-medium text-accent-600 hover:underline dark:text-accent-400">
              See lists shared with you
            </Link>
          }
        >
          Reserve gifts on friends’ lists and they show up here.
        </EmptyState>
      ) : (
        <ul className="space-y-3">
          {reservations.items.map((r) => {
            const price = formatPrice(r.item.price, r.item.currency);
            const date = formatDate(r.wishlist.occasion_date);
            return (
              <li key={r.id} data-testid="reservation" className="flex items-center gap-4 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
                <input
                  id={`bought-${r.id}`}
                  type="checkbox"
                  checked={r.purchased}
                  onChange={(e) => void change(r, { purchased: e.target.checked })}
                  aria-label={`Bought ${r.item.title}`}
                  className="size-5 shrink-0 rounded accent-accent-600"
                />
                <div className="min-w-0 flex-1">
                  <label htmlFor={`bought-${r.id}`} className={`block font-semibold break-words ${r.purchased ? "text-zinc-500 line-through" : ""}`}>
                    {r.item.title}
                    {r.quantity > 1 && <span className="font-normal text-zinc-500"> × {r.quantity}</span>}
                  </label>
                  <p className="text-sm text-zinc-600 dark:text-zinc-400">
                    For{" "}
                    <Link href={`/wishlists/${r.wishlist_id}`} className="text-accent-600 hover:underline dark:text-accent-400">
                      {r.wishlist.owner_display_name ?? "a former member"} · {r.wishlist.title}
                    </Link>
                    {date && ` · ${date}`}
                  </p>
                  <label className="mt-1 flex w-fit items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
                    <input
                      type="checkbox"
                      checked={r.show_name}
                      onChange={(e) => void change(r, { show_name: e.target.checked })}
                      className="size-3.5 rounded accent-accent-600"
                      aria-label={`Show my name on ${r.item.title} to other viewers`}
                    />
                    Show my name to other viewers
                  </label>
                </div>
                <div className="flex shrink-0 flex-col items-end gap-1">
                  {price && <span className="text-sm font-medium">{price}</span>}
                  {r.purchased && <Badge tone="green">Bought</Badge>}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {reservations.hasMore && (
        <div className="mt-6 text-center">
          <Button variant="secondary" onClick={() => void reservations.loadMore()}>
            Show more
          </Button>
        </div>
      )}
    </>
  );
}
