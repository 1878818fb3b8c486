"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { create } from "zustand";

import { logOut } from "@/lib/auth/actions";
import { useSession } from "@/lib/auth/session";

import { Logo } from "./Logo";
import { NotificationBell } from "./NotificationBell";
import { Spinner } from "./ui/States";

const NAV = [
  { href: "/wishlists", label: "My lists" },
  { href: "/shared-with-me", label: "Shared with me" },
  { href: "/reservations", label: "Shopping list" },
  { href: "/groups", label: "Groups" },
];

/**
 * The navigation entry a page belongs to when its path does not say: a
 * friend's list lives under /wishlists/ but belongs to "Shared with me".
 */
export const useNavSection = create<{ section: string | null }>()(() => ({ section: null }));

function NavLink({ href, label, compact = false }: { href: string; label: string; compact?: boolean }) {
  const pathname = usePathname();
  const section = useNavSection((s) => s.section);
  const active = section
    ? section === href
    : pathname === href || ((href === "/wishlists" || href === "/groups") && pathname.startsWith(`${href}/`));
  return (
    <Link
      href={href}
      aria-current={active ? "page" : undefined}
      // Compact: the phone's row of four, where a label may take two lines
      // rather than push "Groups" off the screen.
      className={`rounded-lg py-2 font-medium ${compact ? "flex items-center justify-center px-1 text-center text-xs leading-tight" : "whitespace-nowrap px-3 text-sm"} ${
        active ? "bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-white" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-white"
      }`}
    >
      {label}
    </Link>
  );
}

/** The signed-in frame: header, navigation, notifications. Sends visitors to log in. */
export function AppShell({ children }: { children: ReactNode }) {
  const status = useSession((s) => s.status);
  const user = useSession((s) => s.user);
  const router = useRouter();
  const pathname = usePathname();

  useEffect(() => {
    if (status === "anonymous") router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [status, router, pathname]);

  if (status !== "authenticated") {
    return (
      <div className="flex min-h-dvh items-center justify-center text-zinc-500" role="status" aria-label="Loading">
        <Spinner className="size-8" />
      </div>
    );
  }

  return (
    <div className="min-h-dvh">
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
        <div className="mx-auto flex h-16 max-w-5xl items-center gap-4 px-4">
          <Logo />
          <nav aria-label="Main" className="hidden flex-1 gap-1 md:flex">
            {NAV.map((n) => (
              <NavLink key={n.href} {...n} />
            ))}
          </nav>
          <div className="ml-auto flex items-center gap-1 md:ml-0">
            <NotificationBell />
            <Link
              href="/settings"
              aria-label="Account settings"
              className="flex size-9 items-center justify-center rounded-full bg-accent-100 text-sm font-semibold text-accent-700 hover:ring-2 hover:ring-accent-400 dark:bg-accent-700/30 dark:text-accent-100"
            >
              {user?.display_name.slice(0, 1).toUpperCase()}
            </Link>
            <button
              type="button"
              onClick={async () => {
                await logOut().catch(() => undefined);
                router.replace("/login");
              }}
              className="hidden rounded-lg px-3 py-2 text-sm font-medium text-zinc-600 hover:text-zinc-900 sm:block dark:text-zinc-400 dark:hover:text-white"
            >
              Log out
            </button>
          </div>
        </div>
        <nav aria-label="Main" className="mx-auto grid max-w-5xl grid-cols-4 gap-1 px-2 pb-2 md:hidden">
          {NAV.map((n) => (
            <NavLink key={n.href} {...n} compact />
          ))}
        </nav>
      </header>
      <main className="mx-auto max-w-5xl px-4 py-6 sm:py-10">{children}</main>
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-2xl font-bold tracking-tight break-words sm:text-3xl">{title}</h1>
        {subtitle && <div className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{subtitle}</div>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}
