"use client";

import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useSWRConfig } from "swr";

import { PageHeader, useNavSection } from "@/components/AppShell";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorState, SkeletonList } from "@/components/ui/States";
import { toastError } from "@/components/ui/Toasts";
import { Archive } from "@/components/wishlists/Archive";
import { GroupSharing } from "@/components/wishlists/GroupSharing";
import { OwnerItems } from "@/components/wishlists/OwnerItems";
import { RevealDialog } from "@/components/wishlists/Reveal";
import { SharingPanel } from "@/components/wishlists/SharingPanel";
import { ViewerItems } from "@/components/wishlists/ViewerItems";
import { WishlistForm } from "@/components/wishlists/WishlistForm";
import { api, data } from "@/lib/api/client";
import { keys, refreshPaged, useWishlist } from "@/lib/api/hooks";
import { messageOf } from "@/lib/api/problems";
import { useSession } from "@/lib/auth/session";
import { formatDate } from "@/lib/format";

type Tab = "items" | "archive";

function Tabs({ tab, onChange }: { tab: Tab; onChange: (tab: Tab) => void }) {
  const tabs: { value: Tab; label: string }[] = [
    { value: "items", label: "Items" },
    { value: "archive", label: "Archive" },
  ];
  return (
    <div role="tablist" aria-label="List views" className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
      {tabs.map((t) => (
        <button
          key={t.value}
          type="button"
          role="tab"
          aria-selected={tab === t.value}
          onClick={() => onChange(t.value)}
          className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${
            tab === t.value ? "border-accent-600 text-zinc-900 dark:text-white" : "border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-white"
          }`}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export default function WishlistPage() {
  const { id } = useParams<{ id: string }>();
  const me = useSession((s) => s.user);
  const wishlist = useWishlist(id);
  const { mutate } = useSWRConfig();
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [revealing, setRevealing] = useState(false);
  const [tab, setTab] = useState<Tab>("items");
  const viewing = wishlist.data && me ? wishlist.data.owner_id !== me.id : false;

  useEffect(() => {
    useNavSection.setState({ section: viewing ? "/shared-with-me" : null });
    return () => useNavSection.setState({ section: null });
  }, [viewing]);

  if (wishlist.error) {
    if (wishlist.error.status === 404) {
      return (
        <div className="py-16 text-center">
          <h1 className="text-2xl font-bold">List not found</h1>
          <p className="mt-2 text-zinc-600 dark:text-zinc-400">It was deleted, or it is not shared with you.</p>
          <Link href="/wishlists" className="mt-4 inline-block font-medium text-accent-600 hover:underline">
            Back to my lists
          </Link>
        </div>
      );
    }
    return <ErrorState message={messageOf(wishlist.error)} onRetry={() => void wishlist.mutate()} />;
  }
  if (!wishlist.data || !me) return <SkeletonList rows={4} label="Loading the list" />;

  const w = wishlist.data;
  const isOwner = w.owner_id === me.id;
  const date = formatDate(w.occasion_date);
  const subtitle = (
    <>
      {!isOwner && <span>{w.owner_display_name ?? "A former member"}’s list</span>}
      {!isOwner && date && <span aria-hidden="true"> · </span>}
      {date && <span>{date}</span>}
      {isOwner && w.revealed_at && <span>{date ? " · " : ""}Last revealed {formatDate(w.revealed_at)}</span>}
      {w.description && <p className="mt-2 max-w-2xl whitespace-pre-line text-zinc-700 dark:text-zinc-300">{w.description}</p>}
    </>
  );

  async function remove() {
    setDeleteBusy(true);
    try {
      await data(api.DELETE("/api/v1/wishlists/{wishlist_id}", { params: { path: { wishlist_id: w.id } } }));
      void refreshPaged(keys.myLists);
      router.replace("/wishlists");
    } catch (error) {
      toastError(messageOf(error));
      setDeleteBusy(false);
    }
  }

  return (
    <>
      <title>{`${w.title} · Wishlist`}</title>
      <PageHeader
        title={w.title}
        subtitle={subtitle}
        actions={
          isOwner && (
            <>
              <Button onClick={() => setRevealing(true)}>Reveal</Button>
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Edit list
              </Button>
              <Button variant="ghost" onClick={() => setDeleting(true)}>
                Delete list
              </Button>
            </>
          )
        }
      />
      {isOwner ? (
        // min-w-0: a long email in the sharing panel must shrink, not widen the page.
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
          <div className="min-w-0">
            <Tabs tab={tab} onChange={setTab} />
            {tab === "items" ? <OwnerItems wishlist={w} /> : <Archive wishlist={w} />}
          </div>
          <aside className="min-w-0">
            <SharingPanel wishlist={w} />
            <GroupSharing wishlist={w} />
          </aside>
        </div>
      ) : (
        <>
          <Tabs tab={tab} onChange={setTab} />
          {tab === "items" ? <ViewerItems wishlist={w} /> : <Archive wishlist={w} />}
        </>
      )}
      {isOwner && (
        <>
          <RevealDialog wishlist={w} open={revealing} onClose={() => setRevealing(false)} />
          <Dialog open={editing} title="Edit list" onClose={() => setEditing(false)}>
            <WishlistForm
              initial={w}
              submitLabel="Save"
              onCancel={() => setEditing(false)}
              onSubmit={async (values) => {
                await data(api.PATCH("/api/v1/wishlists/{wishlist_id}", { params: { path: { wishlist_id: w.id } }, body: values }));
                setEditing(false);
                await mutate(keys.wishlist(w.id));
                void refreshPaged(keys.myLists);
              }}
            />
          </Dialog>
          <Dialog open={deleting} title="Delete this list?" onClose={() => setDeleting(false)}>
            <p className="text-sm text-zinc-600 dark:text-zinc-400">“{w.title}” and all its items will be deleted for everyone it is shared with. This cannot be undone.</p>
            <div className="mt-6 flex justify-end gap-2">
              <Button variant="secondary" onClick={() => setDeleting(false)}>
                Keep it
              </Button>
              <Button variant="danger" busy={deleteBusy} onClick={() => void remove()}>
                Delete list
              </Button>
            </div>
          </Dialog>
        </>
      )}
    </>
  );
}
