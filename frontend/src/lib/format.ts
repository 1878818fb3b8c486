/** How dates and money read on screen. */

export function formatDate(iso: string | null | undefined): string | null {
  if (!iso) return null;
  // An occasion date is a calendar day: read it as such, not as UTC midnight.
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return null;
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
}

export function formatPrice(price: string | null, currency: string | null): string | null {
  if (!price) return null;
  const amount = Number(price);
  if (!currency || Number.isNaN(amount)) return price;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${price} ${currency}`;
  }
}

export function daysUntil(iso: string | null): number | null {
  if (!iso) return null;
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return null;
  const today = new Date();
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((new Date(y, m - 1, d).getTime() - start.getTime()) / 86_400_000);
}
