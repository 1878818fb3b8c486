import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-3 px-4 text-center">
      <h1 className="text-2xl font-bold">Page not found</h1>
      <p className="text-zinc-600 dark:text-zinc-400">This page does not exist, or it is not shared with you.</p>
      <Link href="/wishlists" className="font-medium text-accent-600 hover:underline">
        Go to my lists
      </Link>
    </main>
  );
}
