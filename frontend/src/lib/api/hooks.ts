/**
 * Data the screens read, through SWR: cached, shared between components,
 * revalidated on focus and when a live notification says it changed.
 *
 * Keys are plain arrays so that a notification can revalidate exactly what
 * it touches (`keys.wishlist(id)`), and mutations can write optimistic
 * values to the same place the screen reads from.
 */
import useSWR, { mutate, type SWRConfiguration } from "swr";
import useSWRInfinite, { unstable_serialize } from "swr/infinite";

import { useSession } from "@/lib/auth/session";

import { api, data } from "./client";
import type { ApiError } from "./problems";
import type { ArchivedItem, Group, GroupDetail, GroupShare, Page, Reservation, Share, Wishlist, WishlistDetail } from "./types";

export const keys = {
  myLists: ["wishlists", "mine"] as const,
  sharedWithMe: ["wishlists", "shared-with-me"] as const,
  wishlist: (id: string) => ["wishlist", id] as const,
  shares: (id: string) => ["wishlist", id, "shares"] as const,
  reservations: ["reservations"] as const,
  publicList: (token: string) => ["shared", token] as const,
  emailPreferences: ["notifications", "email-preferences"] as const,
  groups: ["groups"] as const,
  group: (id: string) => ["group", id] as const,
  wishlistGroups: (id: string) => ["wishlist", id, "groups"] as const,
  archive: (id: string) => ["wishlist", id, "archive"] as const,
};

const PAGE_SIZE = 50;

/** The SWR key of page `index` of a paged collection: the cursor is its last part. */
function pageKey(key: readonly string[]) {
  return (index: number, previous: Page<unknown> | null): string[] | null => {
    if (index === 0) return [...key, ""];
    if (!previous?.next_cursor) return null;
    return [...key, previous.next_cursor];
  };
}

/** Refetches every loaded page of a paged collection, wherever it is shown. */
export function refreshPaged(key: readonly string[]): Promise<unknown> {
  return mutate(unstable_serialize(pageKey(key)));
}

/** Every page up to what the user asked for, with `loadMore` for the next. */
function usePaged<T>(
  key: readonly string[],
  fetchPage: (cursor: string | null) => Promise<Page<T>>,
  enabled: boolean,
) {
  const result = useSWRInfinite<Page<T>, ApiError>(
    enabled ? pageKey(key) : () => null,
    (k: string[]) => fetchPage(k.at(-1) || null),
    { revalidateFirstPage: true },
  );
  const pages = result.data ?? [];
  return {
    items: pages.flatMap((p) => p.items),
    hasMore: Boolean(pages.at(-1)?.next_cursor),
    loadMore: () => result.setSize(result.size + 1),
    isLoading: result.isLoading,
    isLoadingMore: result.isValidating && result.size > pages.length,
    error: result.error,
    mutate: result.mutate,
  };
}

function useSignedIn() {
  return useSession((s) => s.status === "authenticated");
}

export function useMyLists() {
  return usePaged<Wishlist>(
    keys.myLists,
    (cursor) => data(api.GET("/api/v1/wishlists", { params: { query: { limit: PAGE_SIZE, cursor } } })),
    useSignedIn(),
  );
}

export function useSharedWithMe() {
  return usePaged<Wishlist>(
    keys.sharedWithMe,
    (cursor) =>
      data(api.GET("/api/v1/wishlists/shared-with-me", { params: { query: { limit: PAGE_SIZE, cursor } } })),
    useSignedIn(),
  );
}

export function useReservations() {
  return usePaged<Reservation>(
    keys.reservations,
    (cursor) => data(api.GET("/api/v1/reservations", { params: { query: { limit: PAGE_SIZE, cursor } } })),
    useSignedIn(),
  );
}

export function useShares(id: string, enabled: boolean) {
  return usePaged<Share>(
    keys.shares(id),
    (cursor) =>
      data(
        api.GET("/api/v1/wishlists/{wishlist_id}/shares", {
          params: { path: { wishlist_id: id }, query: { limit: PAGE_SIZE, cursor } },
        }),
      ),
    useSignedIn() && enabled,
  );
}

export function useWishlist(id: string, config?: SWRConfiguration<WishlistDetail, ApiError>) {
  const signedIn = useSignedIn();
  return useSWR<WishlistDetail, ApiError>(
    signedIn ? keys.wishlist(id) : null,
    () => data(api.GET("/api/v1/wishlists/{wishlist_id}", { params: { path: { wishlist_id: id } } })),
    config,
  );
}

export function usePublicList(token: string) {
  return useSWR<WishlistDetail, ApiError>(keys.publicList(token), () =>
    data(api.GET("/api/v1/shared/{token}", { params: { path: { token } } })),
  );
}

export function useGroups() {
  return usePaged<Group>(
    keys.groups,
    (cursor) => data(api.GET("/api/v1/groups", { params: { query: { limit: PAGE_SIZE, cursor } } })),
    useSignedIn(),
  );
}

export function useGroup(id: string) {
  const signedIn = useSignedIn();
  return useSWR<GroupDetail, ApiError>(signedIn ? keys.group(id) : null, () =>
    data(api.GET("/api/v1/groups/{group_id}", { params: { path: { group_id: id } } })),
  );
}

/** The groups one of the caller's lists is shared with (its owner's view). */
export function useWishlistGroups(id: string, enabled: boolean) {
  return usePaged<GroupShare>(
    keys.wishlistGroups(id),
    (cursor) =>
      data(
        api.GET("/api/v1/wishlists/{wishlist_id}/groups", {
          params: { path: { wishlist_id: id }, query: { limit: PAGE_SIZE, cursor } },
        }),
      ),
    useSignedIn() && enabled,
  );
}

/** A list's received items, most recently received first. */
export function useArchive(id: string, enabled: boolean) {
  return usePaged<ArchivedItem>(
    keys.archive(id),
    (cursor) =>
      data(
        api.GET("/api/v1/wishlists/{wishlist_id}/archive", {
          params: { path: { wishlist_id: id }, query: { limit: PAGE_SIZE, cursor } },
        }),
      ),
    useSignedIn() && enabled,
  );
}
