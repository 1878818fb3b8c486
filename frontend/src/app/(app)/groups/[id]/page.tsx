"use client";

import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { PageHeader, useNavSection } from "@/components/AppShell";
import { GroupForm } from "@/components/groups/GroupForm";
import { Members } from "@/components/groups/Members";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorState, SkeletonList } from "@/components/ui/States";
import { toastError, useToasts } from "@/components/ui/Toasts";
import { api, data } from "@/lib/api/client";
import { keys, refreshPaged, useGroup } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import { formatDate } from "@/lib/format";

type Confirming = "delete" | "leave" | null;

export default function GroupPage() {
  const { id } = useParams<{ id: string }>();
  const group = useGroup(id);
  const router = useRouter();
  const [renaming, setRenaming] = useState(false);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    useNavSection.setState({ section: "/groups" });
    return () => useNavSection.setState({ section: null });
  }, []);

  if (group.error) {
    if (group.error.status === 404) {
      return (
        <div className="py-16 text-center">
          <h1 className="text-2xl font-bold">Group not found</h1>
          <p className="mt-2 text-zinc-600 dark:text-zinc-400">It was deleted, or you are not in it.</p>
          <Link href="/groups" className="mt-4 inline-block font-medium text-accent-600 hover:underline">
            Back to my groups
          </Link>
        </div>
      );
    }
    return <ErrorState message={messageOf(group.error)} onRetry={() => void group.mutate()} />;
  }
  if (!group.data) return <SkeletonList rows={4} label="Loading the group" />;

  const g = group.data;
  const isOwner = g.role === "owner";

  async function deleteOrLeave(action: "delete" | "leave") {
    setBusy(true);
    try {
      if (action === "delete") {
        await data(api.DELETE("/api/v1/groups/{group_id}", { params: { path: { group_id: g.id } } }));
      } else {
        await data(api.DELETE("/api/v1/groups/{group_id}/members/me", { params: { path: { group_id: g.id } } }));
      }
      void refreshPaged(keys.groups);
      void refreshPaged(keys.sharedWithMe);
      useToasts.getState().show(action === "delete" ? `Deleted “${g.name}”` : `You left “${g.name}”`);
      router.replace("/groups");
    } catch (error) {
      toastError(messageOf(error));
      setBusy(false);
    }
  }

  return (
    <>
      <title>{`${g.name} · Wishlist`}</title>
      <PageHeader
        title={g.name}
        subtitle={isOwner ? "Your group" : `${g.owner_display_name ?? "A former member"}’s group`}
        actions={
          isOwner ? (
            <>
              <Button variant="secondary" onClick={() => setRenaming(true)}>
                Rename
              </Button>
              <Button variant="ghost" onClick={() => setConfirming("delete")}>
                Delete group
              </Button>
            </>
          ) : (
            <Button variant="secondary" onClick={() => setConfirming("leave")}>
              Leave group
            </Button>
          )
        }
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <section aria-labelledby="group-lists-heading" className="min-w-0">
          <h2 id="group-lists-heading" className="mb-4 text-lg font-semibold">
            Lists shared with the group <span className="text-zinc-500 tabular-nums">({g.wishlists.length})</span>
          </h2>
          {g.wishlists.length === 0 ? (
            <p className="rounded-xl border border-dashed border-zinc-300 px-6 py-10 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
              No lists yet. Open one of your lists and share it with this group: everyone here will see it.
            </p>
          ) : (
            <ul className="space-y-3" aria-label="Lists shared with the group">
              {g.wishlists.map((w) => (
                <li key={w.id}>
                  <Link
                    href={`/wishlists/${w.id}`}
                    className="block rounded-2xl bg-white p-4 shadow-sm ring-1 ring-zinc-200 hover:ring-accent-400 dark:bg-zinc-900 dark:ring-zinc-800"
                  >
                    <span className="block font-semibold break-words">{w.title}</span>
                    <span className="block text-sm text-zinc-600 dark:text-zinc-400">
                      by {w.owner_display_name ?? "a former member"}
                      {w.occasion_date && ` · ${formatDate(w.occasion_date)}`}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>
        <aside className="min-w-0">
          <Members group={g} onChanged={() => void group.mutate()} />
        </aside>
      </div>
      <Dialog open={renaming} title="Rename group" onClose={() => setRenaming(false)}>
        <GroupForm
          initial={g.name}
          submitLabel="Save"
          onCancel={() => setRenaming(false)}
          onSubmit={async (name) => {
            await data(api.PATCH("/api/v1/groups/{group_id}", { params: { path: { group_id: g.id } }, body: { name } }));
            setRenaming(false);
            await group.mutate();
            void refreshPaged(keys.groups);
          }}
        />
      </Dialog>
      <Dialog open={confirming !== null} title={confirming === "delete" ? "Delete this group?" : "Leave this group?"} onClose={() => setConfirming(null)}>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {confirming === "delete"
            ? `Members of “${g.name}” lose the lists they could see through it (not those shared with them another way).`
            : `You will no longer see the lists shared with “${g.name}”, unless they are shared with you another way.`}
        </p>
        <div className="mt-6 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirming(null)}>
            Cancel
          </Button>
          <Button variant="danger" busy={busy} onClick={() => confirming && void deleteOrLeave(confirming)}>
            {confirming === "delete" ? "Delete group" : "Leave group"}
          </Button>
        </div>
      </Dialog>
    </>
  );
}
