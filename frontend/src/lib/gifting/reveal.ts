/**
 * Revealing a list: the owner learns who gave what, and what was suggested.
 *
 * A reveal cannot be taken back, so before the occasion (or with no date
 * set) the server refuses it with 409 `reveal-before-occasion` unless the
 * owner confirmed an early reveal (`early: true`). That refusal is not an
 * error to show: it is the question to ask.
 */
import { api, data } from "@/lib/api/client";
import { ApiError } from "@/lib/api/problems";
import type { Reveal } from "@/lib/api/types";

export type RevealOutcome = { status: "revealed"; reveal: Reveal } | { status: "too-early" };

export function isTooEarly(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && (error.problem.type ?? "").endsWith("reveal-before-occasion");
}

export async function revealList(wishlistId: string, options: { early: boolean; nextOccasionDate: string | null }): Promise<RevealOutcome> {
  const body = { early: options.early, ...(options.nextOccasionDate ? { next_occasion_date: options.nextOccasionDate } : {}) };
  try {
    const reveal = await data(api.POST("/api/v1/wishlists/{wishlist_id}/reveal", { params: { path: { wishlist_id: wishlistId } }, body }));
    return { status: "revealed", reveal };
  } catch (error) {
    if (!options.early && isTooEarly(error)) return { status: "too-early" };
    throw error;
  }
}
