// Any origin would do: what matters is that the browser's own URL parser (which
// drops tabs and newlines and reads "\" as "/") decides where `next` points,
// not a prefix test that such characters slip past.
const BASE = "https://this-app.invalid";

/** Where to go after logging in: only a path of this app, never another site. */
export function safeNext(next: string | null, fallback = "/wishlists"): string {
  if (!next) return fallback;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
