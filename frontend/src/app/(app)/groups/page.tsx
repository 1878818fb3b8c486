"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { PageHeader } from "@/components/AppShell";
import { GroupForm } from "@/components/groups/GroupForm";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { Badge, EmptyState, ErrorState, SkeletonList } from "@/components/ui/States";
import { api, data } from "@/lib/api/client";
import { useGroups } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";

export default function GroupsPage() {
  const groups = useGroups();
  const router = useRouter();
  const [creating, setCreating] = useState(false);

  const newGroup = (
    <Button onClick={() => setCreating(true)}>
      <span aria-hidden="true">+</span> New group
    </Button>
  );

  return (
    <>
      <title>Groups · Wishlist</title>
      <PageHeader title="Groups" subtitle="Your family, your friends: share a list with a group and everyone in it can see it." actions={newGroup} />
      {groups.error ? (
        <ErrorState message={messageOf(groups.error)} onRetry={() => void groups.mutate()} />
      ) : groups.isLoading ? (
        <SkeletonList label="Loading your groups" />
      ) : groups.items.length === 0 ? (
        <EmptyState title="No groups yet" action={newGroup}>
          Make one for the people you exchange gifts with, or wait to be added to one.
        </EmptyState>
      ) : (
        <>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="My groups">
            {groups.items.map((g) => (
              <li key={g.id}>
                <Link
                  href={`/groups/${g.id}`}
                  className="group flex h-full flex-col rounded-2xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 transition hover:shadow-md hover:ring-accent-400 dark:bg-zinc-900 dark:ring-zinc-800"
                >
                  <div className="flex items-start justify-between gap-3">
                    <h2 className="text-base font-semibold break-words group-hover:text-accent-700 dark:group-hover:text-accent-400">{g.name}</h2>
                    {g.role === "owner" ? <Badge tone="accent">Yours</Badge> : <Badge>Member</Badge>}
                  </div>
                  {g.role !== "owner" && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">by {g.owner_display_name ?? "a former member"}</p>}
                  <p className="mt-auto pt-4 text-xs text-zinc-500">{g.member_count === 1 ? "1 member" : `${g.member_count} members`}</p>
                </Link>
              </li>
            ))}
          </ul>
          {groups.hasMore && (
            <div className="mt-6 text-center">
              <Button variant="secondary" busy={groups.isLoadingMore} onClick={() => void groups.loadMore()}>
                Show more
              </Button>
            </div>
          )}
        </>
      )}
      <Dialog open={creating} title="New group" onClose={() => setCreating(false)}>
        <GroupForm
          submitLabel="Create group"
          onCancel={() => setCreating(false)}
          onSubmit={async (name) => {
            const created = await data(api.POST("/api/v1/groups", { body: { name } }));
            router.push(`/groups/${created.id}`);
            setCreating(false);
            void groups.mutate();
          }}
        />
      </Dialog>
    </>
  );
}
