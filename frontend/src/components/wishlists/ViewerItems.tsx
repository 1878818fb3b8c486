"use client";

import { useState } from "react";
import { useSWRConfig } from "swr";

import { api, data } from "@/lib/api/client";
import { keys, refreshPaged } from "@/lib/api/hooks";
import { ApiError, messageOf } from "@/lib/api/problems";
import { isViewerItem, type ItemCreate, type ViewerItem, type WishlistDetail } from "@/lib/api/types";
import { useSession } from "@/lib/auth/session";
import { FORMER_MEMBER, reservedByText } from "@/lib/gifting/names";

import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { Badge, EmptyState } from "../ui/States";
import { toastError, useToasts } from "../ui/Toasts";
import { ItemCard, byPriority } from "./ItemCard";
import { ItemForm } from "./ItemForm";

function ReserveControls({ wishlist, item }: { wishlist: WishlistDetail; item: ViewerItem }) {
  const { mutate } = useSWRConfig();
  const key = keys.wishlist(wishlist.id);
  const left = Math.max(0, item.quantity - item.reserved_quantity);
  const [quantity, setQuantity] = useState(1);
  // Off unless chosen: the other viewers see a reserver's name only if they want it seen.
  const [showName, setShowName] = useState(false);
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
      await mutate(key, data(api.POST("/api/v1/wishlists/{wishlist_id}/items/{item_id}/reservations", { ...path, body: { quantity: amount, show_name: showName } })).then(() => undefined), {
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
      className="flex flex-wrap items-center gap-2"
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
      <label className="flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
        <input type="checkbox" checked={showName} onChange={(e) => setShowName(e.target.checked)} className="size-4 rounded accent-accent-600" />
        Show my name to other viewers
      </label>
      <Button type="submit" size="sm" busy={busy} aria-label={`Reserve ${item.title}`}>
        Reserve
      </Button>
    </form>
  );
}

function Availability({ item, meId }: { item: ViewerItem; meId: string | null }) {
  const left = Math.max(0, item.quantity - item.reserved_quantity);
  const names = reservedByText(item, meId);
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="availability">
      {item.suggested_by && (
        <Badge tone="accent">{item.suggested_by.id === meId ? "Suggested by you" : `Suggested by ${item.suggested_by.display_name ?? FORMER_MEMBER}`}</Badge>
      )}
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
      {names && (
        <span data-testid="reservers" className="text-xs text-zinc-600 dark:text-zinc-400">
          {names}
        </span>
      )}
    </div>
  );
}

/** A friend's view of the list: what is still to get, their own reservations, and suggestions the owner never sees. */
export function ViewerItems({ wishlist }: { wishlist: WishlistDetail }) {
  const meId = useSession((s) => s.user?.id ?? null);
  const { mutate } = useSWRConfig();
  const key = keys.wishlist(wishlist.id);
  const [suggesting, setSuggesting] = useState(false);
  const [editing, setEditing] = useState<ViewerItem | null>(null);
  const [deleting, setDeleting] = useState<ViewerItem | null>(null);
  const items = byPriority(wishlist.items.filter(isViewerItem));
  const path = (itemId: string) => ({ params: { path: { wishlist_id: wishlist.id, item_id: itemId } } });

  async function suggest(values: ItemCreate) {
    await data(api.POST("/api/v1/wishlists/{wishlist_id}/suggestions", { params: { path: { wishlist_id: wishlist.id } }, body: values }));
    setSuggesting(false);
    await mutate(key);
    useToasts.getState().show(`Suggested “${values.title}”. ${wishlist.owner_display_name ?? "The owner"} will not see it until they reveal the list.`);
  }

  async function save(item: ViewerItem, values: ItemCreate) {
    await data(api.PATCH("/api/v1/wishlists/{wishlist_id}/suggestions/{item_id}", { ...path(item.id), body: values }));
    setEditing(null);
    await mutate(key);
  }

  async function remove(item: ViewerItem) {
    setDeleting(null);
    try {
      await mutate(key, data(api.DELETE("/api/v1/wishlists/{wishlist_id}/suggestions/{item_id}", path(item.id))).then(() => undefined), {
        optimisticData: { ...wishlist, items: wishlist.items.filter((i) => i.id !== item.id) },
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
      void refreshPaged(keys.reservations);
    } catch (error) {
      toastError(`Could not delete “${item.title}”: ${messageOf(error)}`);
    }
  }

  return (
    <section aria-labelledby="items-heading">
      <div className="mb-4 flex flex-wrap items-center justify-between gap-4">
        <h2 id="items-heading" className="text-lg font-semibold">
          Items <span className="text-zinc-500 tabular-nums">({items.length})</span>
        </h2>
        <Button variant="secondary" onClick={() => setSuggesting(true)}>
          <span aria-hidden="true">+</span> Suggest an item
        </Button>
      </div>
      {items.length === 0 ? (
        <EmptyState title="Nothing on this list yet">You will be notified when something is added.</EmptyState>
      ) : (
        <ul className="space-y-3">
          {items.map((item) => {
            const mine = item.suggested_by !== null && item.suggested_by.id === meId;
            return (
              <ItemCard
                key={item.id}
                item={item}
                status={<Availability item={item} meId={meId} />}
                actions={
                  <>
                    <ReserveControls wishlist={wishlist} item={item} />
                    {mine && (
                      <>
                        <Button size="sm" variant="secondary" onClick={() => setEditing(item)} aria-label={`Edit my suggestion ${item.title}`}>
                          Edit
                        </Button>
                        <Button size="sm" variant="ghost" onClick={() => setDeleting(item)} aria-label={`Delete my suggestion ${item.title}`}>
                          Delete
                        </Button>
                      </>
                    )}
                  </>
                }
              />
            );
          })}
        </ul>
      )}
      <Dialog open={suggesting} title="Suggest an item" onClose={() => setSuggesting(false)}>
        <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
          The other viewers see it, marked as your suggestion, and can reserve it. {wishlist.owner_display_name ?? "The owner"} does not see it until they reveal the list.
        </p>
        <ItemForm submitLabel="Suggest item" onSubmit={suggest} onCancel={() => setSuggesting(false)} />
      </Dialog>
      <Dialog open={editing !== null} title="Edit suggestion" onClose={() => setEditing(null)}>
        {editing && <ItemForm initial={editing} submitLabel="Save" onSubmit={(values) => save(editing, values)} onCancel={() => setEditing(null)} />}
      </Dialog>
      <Dialog open={deleting !== null} title="Delete this suggestion?" onClose={() => setDeleting(null)}>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">“{deleting?.title}” will be removed for everyone, with any reservations of it.</p>
        <div className="mt-6 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setDeleting(null)}>
            Keep it
          </Button>
          <Button variant="danger" onClick={() => deleting && void remove(deleting)}>
            Delete
          </Button>
        </div>
      </Dialog>
    </section>
  );
}
