"use client";

import Link from "next/link";
import { useState } from "react";

import { api, data } from "@/lib/api/client";
import { useGroups, useWishlistGroups } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import type { GroupShare, Page, WishlistDetail } from "@/lib/api/types";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, SelectField } from "../ui/Field";
import { toastError } from "../ui/Toasts";

/** The groups the list is shared with: every member of each sees it, members who join later too. */
export function GroupSharing({ wishlist }: { wishlist: WishlistDetail }) {
  const shared = useWishlistGroups(wishlist.id, true);
  const groups = useGroups();
  const [chosen, setChosen] = useState("");
  const sharedIds = new Set(shared.items.map((s) => s.group_id));
  const choices = groups.items.filter((g) => !sharedIds.has(g.id));
  const groupId = choices.some((g) => g.id === chosen) ? chosen : (choices[0]?.id ?? "");

  const share = useSubmit(async () => {
    await data(api.POST("/api/v1/wishlists/{wishlist_id}/groups", { params: { path: { wishlist_id: wishlist.id } }, body: { group_id: groupId } }));
    setChosen("");
    await shared.mutate();
  });

  async function unshare(target: GroupShare) {
    try {
      await shared.mutate(
        data(
          api.DELETE("/api/v1/wishlists/{wishlist_id}/groups/{group_id}", { params: { path: { wishlist_id: wishlist.id, group_id: target.group_id } } }),
        ).then(() => undefined),
        {
          optimisticData: [{ items: shared.items.filter((s) => s.group_id !== target.group_id), next_cursor: null }] as Page<GroupShare>[],
          rollbackOnError: true,
          populateCache: false,
          revalidate: true,
        },
      );
    } catch (error) {
      toastError(`Could not stop sharing with “${target.name}”: ${messageOf(error)}`);
    }
  }

  return (
    <section aria-labelledby="group-sharing-heading" className="mt-6 rounded-2xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="group-sharing-heading" className="text-lg font-semibold">
        Groups
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Everyone in a group sees the list, including people who join it later.</p>
      {groups.isLoading ? (
        <p className="mt-3 text-sm text-zinc-500">Loading…</p>
      ) : groups.items.length === 0 ? (
        <p className="mt-3 text-sm text-zinc-600 dark:text-zinc-400">
          You are in no group yet.{" "}
          <Link href="/groups" className="font-medium text-accent-600 hover:underline dark:text-accent-400">
            Make one
          </Link>
        </p>
      ) : choices.length > 0 ? (
        <form
          className="mt-4 space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            void share.submit();
          }}
        >
          <FormError message={share.formError} />
          <SelectField label="Share with a group" value={groupId} onChange={(e) => setChosen(e.target.value)} error={share.fieldErrors.group_id}>
            {choices.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </SelectField>
          <Button type="submit" busy={share.busy} className="w-full">
            Share with group
          </Button>
        </form>
      ) : null}
      {shared.items.length > 0 && (
        <ul className="mt-4 divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Groups with access">
          {shared.items.map((s) => (
            <li key={s.group_id} data-testid="group-share" className="flex items-center gap-2 py-2">
              <Link href={`/groups/${s.group_id}`} className="min-w-0 flex-1 truncate text-sm font-medium hover:underline">
                {s.name}
              </Link>
              <Button size="sm" variant="ghost" onClick={() => void unshare(s)} aria-label={`Stop sharing with the group ${s.name}`}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      {shared.hasMore && (
        <Button size="sm" variant="ghost" onClick={() => void shared.loadMore()}>
          Show more
        </Button>
      )}
    </section>
  );
}
