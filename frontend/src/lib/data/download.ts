/** Saving what the API sends as a file the user keeps. */

/** `wishlists-export-2026-11-30.json`: the day in the user's own calendar. */
export function defaultExportName(now: Date): string {
  const day = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
  return `wishlists-export-${day}.json`;
}

/**
 * The file name a `Content-Disposition` header proposes (RFC 6266: the
 * UTF-8 `filename*` wins over `filename`), without any path in it.
 */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  let name: string | null = null;
  if (extended?.[1]) {
    try {
      name = decodeURIComponent(extended[1].trim());
    } catch {
      name = null;
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
    name = plain ? (plain[1]?.replace(/\\(.)/g, "$1") ?? plain[2] ?? null) : null;
  }
  // A name, never a path: nothing may choose where the file lands.
  const base = name?.split(/[\\/]/).at(-1)?.trim();
  return base ? base : null;
}

/** Hands `blob` to the browser's download, as if the user had clicked a link to it. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once click() returns; later is only for older engines.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
