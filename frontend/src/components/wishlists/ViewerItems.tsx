"use client";

import { useState } from "react";
import { useSWRConfig } from "swr";

import { api, data } from "@/lib/api/client";
import { keys, refreshPaged } from "@/lib/api/hooks";
import { ApiError, messageOf } from "@/lib/api/problems";
import { isViewerItem, type ViewerItem, type WishlistDetail } from "@/lib/api/types";

import { Button } from "../ui/Button";
import { Badge, EmptyState } from "../ui/States";
import { toastError, useToasts } from "../ui/Toasts";
import { ItemCard, byPriority } from "./ItemCard";

function ReserveControls({ wishlist, item }: { wishlist: WishlistDetail; item: ViewerItem }) {
  const { mutate } = useSWRConfig();
  const key = keys.wishlist(wishlist.id);
  const left = Math.max(0, item.quantity - item.reserved_quantity);
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const path = { params: { path: { wishlist_id: wishlist.id, item_id: item.id } } };

  const patched = (change: Partial<ViewerItem>): WishlistDetail => ({
    ...wishlist,
    items: wishlist.items.map((i) => (i.id === item.id ? { ...i, ...change } : i)),
  });

  async function reserve() {
    setBusy(true);
    const amount = Math.min(quantity, left);
    try {
      await mutate(key, data(api.POST("/api/v1/wishlists/{wishlist_id}/items/{item_id}/reservations", { ...path, body: { quantity: amount } })).then(() => undefined), {
        optimisticData: patched({ reserved_quantity: item.reserved_quantity + amount, reserved_by_me: true }),
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
      void refreshPaged(keys.reservations);
      useToasts.getState().show(`Reserved “${item.title}”. It is on your shopping list.`);
    } catch (error) {
      toastError(error instanceof ApiError && error.status === 409 ? `Someone was quicker: not enough of “${item.title}” is left.` : messageOf(error));
    } finally {
      setBusy(false);
    }
  }

  async function cancel() {
    setBusy(true);
    try {
      await mutate(key, data(api.DELETE("/api/v1/wishlists/{wishlist_id}/items/{item_id}/reservations/mine", path)).then(() => undefined), {
        optimisticData: patched({ reserved_by_me: false }),
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
      void refreshPaged(keys.reservations);
    } catch (error) {
      toastError(`Could not cancel: ${messageOf(error)}`);
    } finally {
      setBusy(false);
    }
  }

  if (item.reserved_by_me) {
    return (
      <Button size="sm" variant="secondary" busy={busy} onClick={() => void cancel()} aria-label={`Cancel my reservation of ${item.title}`}>
        Cancel reservation
      </Button>
    );
  }
  if (left === 0) return null;
  return (
    <form
      className="flex items-center gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        void reserve();
      }}
    >
      {left > 1 && (
        <>
          <label htmlFor={`qty-${item.id}`} className="sr-only">
            How many of {item.title}
          </label>
          <input
            id={`qty-${item.id}`}
            type="number"
            min={1}
            max={left}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Math.min(left, Number(e.target.value) || 1)))}
            className="w-16 rounded-lg border-0 bg-zinc-100 px-2 py-1.5 text-sm dark:bg-zinc-800"
          />
        </>
      )}
      <Button type="submit" size="sm" busy={busy} aria-label={`Reserve ${item.title}`}>
        Reserve
      </Button>
    </form>
  );
}

function Availability({ item }: { item: ViewerItem }) {
  const left = Math.max(0, item.quantity - item.reserved_quantity);
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="availability">
      {item.reserved_by_me && <Badge tone="green">Reserved by you</Badge>}
      {left === 0 ? (
        <Badge>{item.reserved_by_me ? "All reserved" : "Already reserved"}</Badge>
      ) : item.reserved_quantity > 0 ? (
        <Badge tone="amber">
          {left} of {item.quantity} left
        </Badge>
      ) : item.quantity > 1 ? (
        <Badge>{item.quantity} wanted</Badge>
      ) : null}
    </div>
  );
}

/** A friend's view of the list: what is still to get, and their own reservations. */
export function ViewerItems({ wishlist }: { wishlist: WishlistDetail }) {
  const items = byPriority(wishlist.items.filter(isViewerItem));
  return (
    <section aria-labelledby="items-heading">
      <h2 id="items-heading" className="mb-4 text-lg font-semibold">
        Items <span className="text-zinc-500 tabular-nums">({items.length})</span>
      </h2>
      {items.length === 0 ? (
        <EmptyState title="Nothing on this list yet">You will be notified when something is added.</EmptyState>
      ) : (
        <ul className="space-y-3">
          {items.map((item) => (
            <ItemCard key={item.id} item={item} status={<Availability item={item} />} actions={<ReserveControls wishlist={wishlist} item={item} />} />
          ))}
        </ul>
      )}
    </section>
  );
}
