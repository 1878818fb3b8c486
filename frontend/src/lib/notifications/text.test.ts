import { describe, expect, it } from "vitest";

import type { Notification } from "@/lib/api/types";

import { render } from "./text";

const LIST = { id: "l1", title: "Birthday", owner_id: "o1", owner_display_name: "Olivia", occasion_date: null };

function notification(kind: string, data: Record<string, unknown>): Notification {
  return { id: "n", kind, created_at: "2026-12-01T10:00:00Z", read: false, data };
}

describe("what a notification says", () => {
  it("names the group a list was shared through", () => {
    const shared = notification("wishlist_shared", { wishlist: LIST, via: "group", group: { id: "g1", name: "The Smiths" } });
    expect(render(shared)).toEqual({ text: "Olivia shared “Birthday” with your group “The Smiths”", href: "/wishlists/l1" });
    expect(render(notification("wishlist_shared", { wishlist: LIST, via: "email" })).text).toBe("Olivia shared “Birthday” with you");
  });

  it("links being added to a group to the group", () => {
    const added = notification("added_to_group", { group: { id: "g1", name: "The Smiths", owner_id: "o1", owner_display_name: null }, member_id: "m" });
    expect(render(added)).toEqual({ text: "Someone added you to the group “The Smiths”", href: "/groups/g1" });
  });

  it("says who suggested what, and what a reveal or a received gift means", () => {
    const item = { id: "i1", title: "Socks" };
    expect(render(notification("item_suggested", { wishlist: LIST, item, suggested_by_display_name: "Ann" })).text).toBe("Ann suggested “Socks” for “Birthday”");
    expect(render(notification("item_suggested", { wishlist: LIST, item, suggested_by_display_name: null })).text).toBe("A friend suggested “Socks” for “Birthday”");
    expect(render(notification("item_received", { wishlist: LIST, item })).text).toBe("Olivia marked “Socks”, which you reserved, as received on “Birthday”");
    expect(render(notification("wishlist_revealed", { wishlist: LIST, received_count: 2 })).href).toBe("/wishlists/l1");
  });
});
