/**
 * Details read from a product page (`POST /api/v1/link-preview`), and how
 * they fill in an item form: only what the user left empty, never over what
 * they typed, and only from the answer to the link the form holds now.
 */
import { api, data } from "@/lib/api/client";
import { ApiError } from "@/lib/api/problems";
import type { LinkPreview } from "@/lib/api/types";

export type { LinkPreview };

/** The item form's fields a preview may fill. */
export interface Fillable {
  title: string;
  imageUrl: string;
  price: string;
  currency: string;
}

export type Filled = keyof Fillable;

/** The link to preview, or null for text that is no web address (yet). */
export function previewableUrl(text: string): string | null {
  const candidate = text.trim();
  if (!/^https?:\/\//i.test(candidate)) return null;
  try {
    const url = new URL(candidate);
    return url.hostname.includes(".") || url.hostname.startsWith("[") || /^\d+(\.\d+){3}$/.test(url.hostname) ? url.toString() : null;
  } catch {
    return null;
  }
}

function text(value: string | null | undefined): string {
  return value?.trim() ?? "";
}

/**
 * `current` with the empty fields taken from `preview`. The currency is
 * a choice with a default, never empty: it comes along with a price the
 * preview fills in, and otherwise stays as the user set it.
 */
export function fillEmpty(current: Fillable, preview: LinkPreview): { values: Fillable; filled: Filled[] } {
  const values = { ...current };
  const filled: Filled[] = [];
  const title = text(preview.title).slice(0, 200);
  if (!current.title.trim() && title) {
    values.title = title;
    filled.push("title");
  }
  const image = text(preview.image_url);
  if (!current.imageUrl.trim() && /^https?:\/\//i.test(image)) {
    values.imageUrl = image;
    filled.push("imageUrl");
  }
  const price = text(preview.price);
  if (!current.price.trim() && price) {
    values.price = price;
    filled.push("price");
    const currency = text(preview.currency).toUpperCase();
    if (/^[A-Z]{3}$/.test(currency) && currency !== current.currency) {
      values.currency = currency;
      filled.push("currency");
    }
  }
  return { values, filled };
}

export function fetchLinkPreview(url: string, signal: AbortSignal): Promise<LinkPreview> {
  return data(api.POST("/api/v1/link-preview", { body: { url }, signal }));
}

/** What a failed preview says: quietly, since the form works without it. */
export function previewFailure(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 422) return "Details can’t be read from this kind of link.";
    if (error.status === 429) return "Too many links looked up just now; fill in the details yourself.";
  }
  return "Couldn’t read details from that page; fill them in yourself.";
}

export type PreviewOutcome = { ok: true; url: string; preview: LinkPreview } | { ok: false; url: string; error: unknown };

/**
 * One preview at a time: asking about a new link cancels the request for
 * the one before, and an answer arriving after that is dropped, so a slow
 * page can never fill the form in for a link the user has since replaced.
 */
export class LinkPreviewer {
  private controller: AbortController | null = null;
  private last: string | null;

  constructor(
    private readonly onOutcome: (outcome: PreviewOutcome) => void,
    private readonly fetchPreview: (url: string, signal: AbortSignal) => Promise<LinkPreview> = fetchLinkPreview,
    initialUrl: string | null = null,
  ) {
    // An item being edited already has its details: its own link is not news.
    this.last = initialUrl ? previewableUrl(initialUrl) : null;
  }

  /** Looks `text` up unless it is no link or the one last looked up. Returns whether it did. */
  request(text: string): boolean {
    const url = previewableUrl(text);
    if (url === null || url === this.last) return false;
    this.cancel();
    this.last = url;
    const controller = new AbortController();
    this.controller = controller;
    const settle = (outcome: PreviewOutcome) => {
      if (this.controller !== controller || controller.signal.aborted) return;
      this.controller = null;
      this.onOutcome(outcome);
    };
    this.fetchPreview(url, controller.signal).then(
      (preview) => settle({ ok: true, url, preview }),
      (error: unknown) => settle({ ok: false, url, error }),
    );
    return true;
  }

  /**
   * The link field now holds `text`: a request for another link is dropped
   * at once, before any pause for typing is over, so its answer cannot land.
   */
  changed(text: string): void {
    if (previewableUrl(text) !== this.last) this.cancel();
  }

  /** Drops the request in flight, if any (the link changed, or the form closed). */
  cancel(): void {
    if (this.controller === null) return;
    this.controller.abort();
    this.controller = null;
    // Its answer never came: the same link typed again is worth asking about.
    this.last = null;
  }

  /** Forgets the last link, so that typing it again looks it up again. */
  reset(): void {
    this.cancel();
    this.last = null;
  }
}
