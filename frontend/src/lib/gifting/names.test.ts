import { describe, expect, it } from "vitest";

import type { Giver, ViewerItem } from "@/lib/api/types";

import { giversText, reservedByText, reserversOf } from "./names";

const ME = "00000000-0000-0000-0000-00000000000a";
const ANN = "00000000-0000-0000-0000-00000000000b";
const BOB = "00000000-0000-0000-0000-00000000000c";

function item(quantity: number, reserved: number, reservedBy: ViewerItem["reserved_by"], mine = false): ViewerItem {
  return {
    id: "i",
    title: "Socks",
    url: null,
    price: null,
    currency: null,
    image_url: null,
    quantity,
    priority: 3,
    notes: null,
    created_at: "2026-11-30T10:00:00Z",
    updated_at: "2026-11-30T10:00:00Z",
    suggested_by: null,
    received_at: null,
    reserved_quantity: reserved,
    reserved_by_me: mine,
    reserved_by: reservedBy,
  };
}

describe("naming reservers", () => {
  it("names those who chose to show their name", () => {
    const socks = item(3, 3, [
      { user_id: ANN, display_name: "Ann", quantity: 1 },
      { user_id: BOB, display_name: "Bob", quantity: 2 },
    ]);
    expect(reservedByText(socks, ME)).toBe("Reserved by Ann, Bob");
  });

  it("counts anonymous reservations without naming them", () => {
    const socks = item(5, 4, [{ user_id: ANN, display_name: "Ann", quantity: 1 }]);
    expect(reserversOf(socks, ME)).toEqual({ names: ["Ann"], unnamed: 3 });
    expect(reservedByText(socks, ME)).toBe("Reserved by Ann and 3 more");
  });

  it("says nothing of names when every reserver stayed anonymous", () => {
    expect(reservedByText(item(2, 2, []), ME)).toBeNull();
  });

  it("does not name the caller, whom 'Reserved by you' already tells", () => {
    const mine = item(1, 1, [{ user_id: ME, display_name: "Me", quantity: 1 }], true);
    expect(reservedByText(mine, ME)).toBeNull();
    const shared = item(2, 2, [
      { user_id: ME, display_name: "Me", quantity: 1 },
      { user_id: ANN, display_name: null, quantity: 1 },
    ], true);
    expect(reservedByText(shared, ME)).toBe("Reserved by A former member");
  });
});

describe("naming givers after a reveal", () => {
  const giver = (name: string | null, quantity: number, purchased: boolean): Giver => ({ user_id: ANN, display_name: name, quantity, purchased });

  it("lists each giver with how many, and whether it was bought", () => {
    expect(giversText([giver("Ann", 1, true), giver("Bob", 2, true)])).toBe("From Ann, Bob (2) — bought");
    expect(giversText([giver("Ann", 1, true), giver(null, 1, false)])).toBe("From Ann, A former member — partly bought");
    expect(giversText([giver("Ann", 1, false)])).toBe("From Ann");
  });

  it("says so when nobody had reserved a received item", () => {
    expect(giversText([])).toBe("Nobody had reserved it");
  });
});
