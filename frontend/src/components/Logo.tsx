import Link from "next/link";

export function Logo({ href = "/wishlists" }: { href?: string }) {
  return (
    <Link href={href} className="flex items-center gap-2 font-semibold tracking-tight">
      <svg viewBox="0 0 24 24" className="size-7 text-accent-600" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
        <rect x="3" y="8" width="18" height="13" rx="2" />
        <path d="M3 12h18M12 8v13" />
        <path d="M12 8c-1.5-3-5-4-5.5-1.5S9.5 8 12 8Zm0 0c1.5-3 5-4 5.5-1.5S14.5 8 12 8Z" strokeLinejoin="round" />
      </svg>
      <span className="text-lg">Wishlist</span>
    </Link>
  );
}
