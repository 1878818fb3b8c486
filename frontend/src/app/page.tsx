"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { Spinner } from "@/components/ui/States";
import { useSession } from "@/lib/auth/session";

export default function Home() {
  const status = useSession((s) => s.status);
  const router = useRouter();
  useEffect(() => {
    if (status !== "loading") router.replace(status === "authenticated" ? "/wishlists" : "/login");
  }, [status, router]);
  return (
    <div className="flex min-h-dvh items-center justify-center text-zinc-500" role="status" aria-label="Loading">
      <Spinner className="size-8" />
    </div>
  );
}
