/** Where to go after logging in: only a path of this app, never another site. */
export function safeNext(next: string | null, fallback = "/wishlists"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}
