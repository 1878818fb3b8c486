/**
 * Who is named on an item, as the other viewers see it.
 *
 * A reserver chooses whether the others see their name (`show_name`); the
 * API lists only those (`reserved_by`) and counts everyone in
 * `reserved_quantity`. The caller's own reservation is already said by
 * "Reserved by you", so it is not named again.
 */
import type { Giver, ViewerItem } from "@/lib/api/types";

/** Stands for a person whose account was deleted (their name is erased). */
export const FORMER_MEMBER = "A former member";

export interface Reservers {
  /** Others who chose to show their name, in the API's order. */
  names: string[];
  /** Units reserved without a name (the caller's own may be among them). */
  unnamed: number;
}

export function reserversOf(item: ViewerItem, meId: string | null): Reservers {
  const named = item.reserved_by ?? [];
  const namedUnits = named.reduce((sum, r) => sum + r.quantity, 0);
  return {
    names: named.filter((r) => r.user_id !== meId).map((r) => r.display_name ?? FORMER_MEMBER),
    unnamed: Math.max(0, item.reserved_quantity - namedUnits),
  };
}

/** "Reserved by Ann, Bob" (and how many more without a name); null when nobody else is named. */
export function reservedByText(item: ViewerItem, meId: string | null): string | null {
  const { names, unnamed } = reserversOf(item, meId);
  if (names.length === 0) return null;
  return unnamed > 0 ? `Reserved by ${names.join(", ")} and ${unnamed} more` : `Reserved by ${names.join(", ")}`;
}

/** "Ann (2), Bob — bought": who gave a received item, as its owner sees it after the reveal. */
export function giversText(givers: readonly Giver[]): string {
  if (givers.length === 0) return "Nobody had reserved it";
  const bought = givers.every((g) => g.purchased) ? " — bought" : givers.some((g) => g.purchased) ? " — partly bought" : "";
  const names = givers.map((g) => `${g.display_name ?? FORMER_MEMBER}${g.quantity > 1 ? ` (${g.quantity})` : ""}`);
  return `From ${names.join(", ")}${bought}`;
}
