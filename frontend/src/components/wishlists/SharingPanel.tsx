"use client";

import { useState } from "react";

import { api, data } from "@/lib/api/client";
import { useShares } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import type { Link, Page, Share, WishlistDetail } from "@/lib/api/types";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, TextField } from "../ui/Field";
import { Badge } from "../ui/States";
import { toastError, useToasts } from "../ui/Toasts";

/** Who may see the list: shares by email (pending until that person joins) and the read-only link. */
export function SharingPanel({ wishlist }: { wishlist: WishlistDetail }) {
  const shares = useShares(wishlist.id, true);
  const [email, setEmail] = useState("");
  const [link, setLink] = useState<Link | null>(null);
  const [linkBusy, setLinkBusy] = useState(false);
  const share = useSubmit(async () => {
    await data(api.POST("/api/v1/wishlists/{wishlist_id}/shares", { params: { path: { wishlist_id: wishlist.id } }, body: { email: email.trim() } }));
    setEmail("");
    await shares.mutate();
  });

  async function revoke(target: Share) {
    const pages = shares.items;
    try {
      await shares.mutate(
        data(api.DELETE("/api/v1/wishlists/{wishlist_id}/shares/{share_id}", { params: { path: { wishlist_id: wishlist.id, share_id: target.id } } })).then(() => undefined),
        {
          optimisticData: [{ items: pages.filter((s) => s.id !== target.id), next_cursor: null }] as Page<Share>[],
          rollbackOnError: true,
          populateCache: false,
          revalidate: true,
        },
      );
    } catch (error) {
      toastError(`Could not stop sharing: ${messageOf(error)}`);
    }
  }

  async function createLink() {
    setLinkBusy(true);
    try {
      setLink(await data(api.POST("/api/v1/wishlists/{wishlist_id}/link", { params: { path: { wishlist_id: wishlist.id } } })));
    } catch (error) {
      toastError(messageOf(error));
    } finally {
      setLinkBusy(false);
    }
  }

  async function revokeLink() {
    setLinkBusy(true);
    try {
      await data(api.DELETE("/api/v1/wishlists/{wishlist_id}/link", { params: { path: { wishlist_id: wishlist.id } } }));
      setLink(null);
      useToasts.getState().show("The link no longer works. People who joined through it keep access until you remove them.");
    } catch (error) {
      toastError(messageOf(error));
    } finally {
      setLinkBusy(false);
    }
  }

  async function copy(url: string) {
    try {
      await navigator.clipboard.writeText(url);
      useToasts.getState().show("Link copied");
    } catch {
      toastError("Copying is not allowed here: select the link and copy it by hand.");
    }
  }

  const people = shares.items.filter((s) => s.via === "email" || s.status === "active");

  return (
    <section aria-labelledby="sharing-heading" className="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="sharing-heading" className="text-lg font-semibold">
        Share
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Friends see the list and can reserve gifts. You will never see what they reserve.</p>
      <form
        className="mt-4 space-y-3"
        onSubmit={(event) => {
          event.preventDefault();
          void share.submit();
        }}
      >
        <FormError message={share.formError} />
        <TextField label="Share with (email)" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} error={share.fieldErrors.email} />
        <Button type="submit" busy={share.busy} className="w-full">
          Share
        </Button>
      </form>

      <h3 className="mt-6 text-sm font-semibold">People with access</h3>
      {shares.isLoading ? (
        <p className="mt-2 text-sm text-zinc-500">Loading…</p>
      ) : people.length === 0 ? (
        <p className="mt-2 text-sm text-zinc-500">Nobody yet.</p>
      ) : (
        <ul className="mt-2 divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="People with access">
          {people.map((s) => (
            <li key={s.id} data-testid="share" className="flex items-center gap-2 py-2">
              <div className="min-w-0 flex-1">
                <p className="truncate text-sm font-medium">{s.viewer_display_name ?? s.email ?? "Joined by link"}</p>
                {s.email && s.viewer_display_name && <p className="truncate text-xs text-zinc-500">{s.email}</p>}
              </div>
              {s.status === "pending" ? <Badge tone="amber">Pending</Badge> : <Badge tone="green">{s.via === "link" ? "Via link" : "Active"}</Badge>}
              <Button size="sm" variant="ghost" onClick={() => void revoke(s)} aria-label={`Stop sharing with ${s.viewer_display_name ?? s.email ?? "this person"}`}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      {shares.hasMore && (
        <Button size="sm" variant="ghost" onClick={() => void shares.loadMore()}>
          Show more
        </Button>
      )}

      <h3 className="mt-6 text-sm font-semibold">Read-only link</h3>
      <p className="mt-1 text-xs text-zinc-500">Anyone with the link can see the list; to reserve, they log in and join.</p>
      {link ? (
        <div className="mt-2 space-y-2">
          <input readOnly value={link.url} aria-label="Share link" onFocus={(e) => e.currentTarget.select()} className="block w-full rounded-lg border-0 bg-zinc-100 px-3 py-2 text-sm dark:bg-zinc-800" />
          <div className="flex flex-wrap gap-2">
            <Button size="sm" onClick={() => void copy(link.url)}>
              Copy link
            </Button>
            <Button size="sm" variant="secondary" busy={linkBusy} onClick={() => void createLink()}>
              New link
            </Button>
            <Button size="sm" variant="ghost" busy={linkBusy} onClick={() => void revokeLink()}>
              Turn off
            </Button>
          </div>
        </div>
      ) : (
        <div className="mt-2 flex flex-wrap gap-2">
          <Button size="sm" variant="secondary" busy={linkBusy} onClick={() => void createLink()}>
            Create link
          </Button>
          <Button size="sm" variant="ghost" busy={linkBusy} onClick={() => void revokeLink()}>
            Turn off any old link
          </Button>
        </div>
      )}
    </section>
  );
}
