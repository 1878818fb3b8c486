"use client";

import { useState } from "react";
import { useSWRConfig } from "swr";

import { api, data } from "@/lib/api/client";
import { keys, refreshPaged } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import type { Item, ItemCreate, WishlistDetail } from "@/lib/api/types";

import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { EmptyState } from "../ui/States";
import { toastError } from "../ui/Toasts";
import { ItemCard, byPriority } from "./ItemCard";
import { ItemForm, PRIORITIES } from "./ItemForm";

/** The owner's items: add, edit, reprioritise, delete. Never a word about reservations. */
export function OwnerItems({ wishlist }: { wishlist: WishlistDetail }) {
  const { mutate } = useSWRConfig();
  const key = keys.wishlist(wishlist.id);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Item | null>(null);
  const [deleting, setDeleting] = useState<Item | null>(null);
  const [receiving, setReceiving] = useState<Item | null>(null);
  const path = (itemId: string) => ({ params: { path: { wishlist_id: wishlist.id, item_id: itemId } } });

  const withItems = (items: WishlistDetail["items"]): WishlistDetail => ({ ...wishlist, items });

  async function setPriority(item: Item, priority: number) {
    const next = wishlist.items.map((i) => (i.id === item.id ? { ...i, priority } : i));
    try {
      await mutate(key, data(api.PATCH("/api/v1/wishlists/{wishlist_id}/items/{item_id}", { ...path(item.id), body: { priority } })).then(() => undefined), {
        optimisticData: withItems(next),
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
    } catch (error) {
      toastError(`Could not change the priority: ${messageOf(error)}`);
    }
  }

  async function remove(item: Item) {
    setDeleting(null);
    try {
      await mutate(key, data(api.DELETE("/api/v1/wishlists/{wishlist_id}/items/{item_id}", path(item.id))).then(() => undefined), {
        optimisticData: withItems(wishlist.items.filter((i) => i.id !== item.id)),
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
    } catch (error) {
      toastError(`Could not delete “${item.title}”: ${messageOf(error)}`);
    }
  }

  async function markReceived(item: Item) {
    setReceiving(null);
    try {
      await mutate(key, data(api.POST("/api/v1/wishlists/{wishlist_id}/items/{item_id}/received", path(item.id))).then(() => undefined), {
        optimisticData: withItems(wishlist.items.filter((i) => i.id !== item.id)),
        rollbackOnError: true,
        populateCache: false,
        revalidate: true,
      });
      void refreshPaged(keys.archive(wishlist.id));
    } catch (error) {
      toastError(`Could not mark “${item.title}” received: ${messageOf(error)}`);
    }
  }

  async function add(values: ItemCreate) {
    await data(api.POST("/api/v1/wishlists/{wishlist_id}/items", { params: { path: { wishlist_id: wishlist.id } }, body: values }));
    setAdding(false);
    await mutate(key);
  }

  async function save(item: Item, values: ItemCreate) {
    await data(api.PATCH("/api/v1/wishlists/{wishlist_id}/items/{item_id}", { ...path(item.id), body: values }));
    setEditing(null);
    await mutate(key);
  }

  const items = byPriority(wishlist.items);

  return (
    <section aria-labelledby="items-heading">
      <div className="mb-4 flex items-center justify-between gap-4">
        <h2 id="items-heading" className="text-lg font-semibold">
          Items <span className="text-zinc-500 tabular-nums">({items.length})</span>
        </h2>
        <Button onClick={() => setAdding(true)}>
          <span aria-hidden="true">+</span> Add item
        </Button>
      </div>
      {items.length === 0 ? (
        <EmptyState title="This list is empty" action={<Button onClick={() => setAdding(true)}>Add the first item</Button>}>
          Add what you would love to get. Friends you share the list with are told live.
        </EmptyState>
      ) : (
        <ul className="space-y-3">
          {items.map((item) => (
            <ItemCard
              key={item.id}
              item={item}
              actions={
                <>
                  <label className="sr-only" htmlFor={`priority-${item.id}`}>
                    Priority of {item.title}
                  </label>
                  <select
                    id={`priority-${item.id}`}
                    value={item.priority}
                    onChange={(e) => void setPriority(item, Number(e.target.value))}
                    className="rounded-lg border-0 bg-zinc-100 py-1.5 pr-8 pl-2.5 text-sm dark:bg-zinc-800"
                  >
                    {[5, 4, 3, 2, 1].map((p) => (
                      <option key={p} value={p}>
                        {PRIORITIES[p]}
                      </option>
                    ))}
                  </select>
                  <Button size="sm" variant="secondary" onClick={() => setEditing(item)} aria-label={`Edit ${item.title}`}>
                    Edit
                  </Button>
                  <Button size="sm" variant="secondary" onClick={() => setReceiving(item)} aria-label={`Mark ${item.title} received`}>
                    Mark received
                  </Button>
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(item)} aria-label={`Delete ${item.title}`}>
                    Delete
                  </Button>
                </>
              }
            />
          ))}
        </ul>
      )}
      <Dialog open={adding} title="Add an item" onClose={() => setAdding(false)}>
        <ItemForm submitLabel="Add item" onSubmit={add} onCancel={() => setAdding(false)} />
      </Dialog>
      <Dialog open={editing !== null} title="Edit item" onClose={() => setEditing(null)}>
        {editing && <ItemForm initial={editing} submitLabel="Save" onSubmit={(values) => save(editing, values)} onCancel={() => setEditing(null)} />}
      </Dialog>
      <Dialog open={receiving !== null} title="Mark this item received?" onClose={() => setReceiving(null)}>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">“{receiving?.title}” leaves the list for its archive, where you and your friends can still see it.</p>
        <div className="mt-6 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setReceiving(null)}>
            Cancel
          </Button>
          <Button onClick={() => receiving && void markReceived(receiving)}>Mark received</Button>
        </div>
      </Dialog>
      <Dialog open={deleting !== null} title="Delete this item?" onClose={() => setDeleting(null)}>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">“{deleting?.title}” will be removed from the list.</p>
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
