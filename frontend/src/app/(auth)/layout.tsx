import type { ReactNode } from "react";

import { Logo } from "@/components/Logo";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center px-4 py-10">
      <div className="mb-8">
        <Logo href="/" />
      </div>
      <div className="w-full max-w-sm rounded-2xl bg-white p-6 shadow-sm ring-1 ring-zinc-200 sm:p-8 dark:bg-zinc-900 dark:ring-zinc-800">{children}</div>
      <p className="mt-6 max-w-sm text-center text-sm text-zinc-500">Share gift lists with the people you love. Friends reserve gifts; you never find out what.</p>
    </main>
  );
}
