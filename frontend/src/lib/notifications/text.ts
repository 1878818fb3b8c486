/** What each kind of notification says, from its `data` alone. */
import type { EmailKind, Notification } from "@/lib/api/types";

interface Named {
  id?: string;
  title?: string;
  name?: string;
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
  const group = field(notification.data, "group");
  const groupName = group.name ? `“${group.name}”` : "a group";
  switch (notification.kind) {
    case "wishlist_shared":
      if (notification.data.via === "group") return { text: `${owner} shared ${listTitle} with your group ${groupName}`, href };
      return { text: `${owner} shared ${listTitle} with you`, href };
    case "added_to_group":
      return { text: `${group.owner_display_name ?? "Someone"} added you to the group ${groupName}`, href: group.id ? `/groups/${group.id}` : "/groups" };
    case "item_suggested": {
      const by = notification.data.suggested_by_display_name;
      return { text: `${typeof by === "string" ? by : "A friend"} suggested ${itemTitle} for ${listTitle}`, href };
    }
    case "item_received":
      return { text: `${owner} marked ${itemTitle}, which you reserved, as received on ${listTitle}`, href };
    case "wishlist_revealed":
      return { text: `${owner} revealed ${listTitle}: they now see who gave what`, href };
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
  added_to_group: "Someone adds me to a group",
  item_suggested: "A friend suggests a gift on a list I follow",
  item_received: "A gift I reserved is marked received",
  wishlist_revealed: "Someone reveals a list I follow",
};
