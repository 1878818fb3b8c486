/** What each kind of notification says, from its `data` alone. */
import type { EmailKind, Notification } from "@/lib/api/types";

interface Named {
  id?: string;
  title?: string;
  owner_display_name?: string | null;
}

function field(data: Record<string, unknown>, key: string): Named {
  const value = data[key];
  return value && typeof value === "object" ? (value as Named) : {};
}

export interface Rendered {
  text: string;
  href: string | null;
}

export function render(notification: Notification): Rendered {
  const list = field(notification.data, "wishlist");
  const item = field(notification.data, "item");
  const listTitle = list.title ? `“${list.title}”` : "a list";
  const owner = list.owner_display_name ?? "Someone";
  const itemTitle = item.title ? `“${item.title}”` : "an item";
  const href = list.id ? `/wishlists/${list.id}` : null;
  switch (notification.kind) {
    case "wishlist_shared":
      return { text: `${owner} shared ${listTitle} with you`, href };
    case "item_added":
      return { text: `${owner} added ${itemTitle} to ${listTitle}`, href };
    case "item_reserved":
      return { text: `${itemTitle} on ${listTitle} was reserved by another friend`, href };
    case "reserved_item_removed":
      return { text: `${itemTitle}, which you reserved, was removed from ${listTitle}`, href: "/reservations" };
    default:
      return { text: "Something changed on a list you follow", href };
  }
}

/**
 * Each kind as a choice in the email settings, in the order they are shown.
 * Typed by the API's list of kinds: a new kind does not build until it has words here.
 */
export const KIND_LABELS: Record<EmailKind, string> = {
  wishlist_shared: "Someone shares a list with me",
  item_added: "Something is added to a list shared with me",
  item_reserved: "Another friend reserves a gift on a list I follow",
  reserved_item_removed: "A gift I reserved is removed from its list",
};
