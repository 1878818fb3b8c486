"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { Button } from "@/components/ui/Button";
import { FormError, TextField } from "@/components/ui/Field";
import { logIn } from "@/lib/auth/actions";
import { useSession } from "@/lib/auth/session";
import { safeNext } from "@/lib/navigation";
import { useSubmit } from "@/lib/useSubmit";

export function LoginForm() {
  const router = useRouter();
  const next = safeNext(useSearchParams().get("next"));
  const status = useSession((s) => s.status);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    await logIn(email, password);
    router.replace(next);
  });

  useEffect(() => {
    if (status === "authenticated" && !busy) router.replace(next);
  }, [status, busy, next, router]);

  return (
    <>
      <h1 className="text-xl font-semibold">Log in</h1>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Welcome back.</p>
      <form
        className="mt-6 space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <FormError message={formError} />
        <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldErrors.email} />
        <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={fieldErrors.password} />
        <p className="-mt-2 text-right text-sm">
          <Link href={`/forgot-password${email.trim() ? `?email=${encodeURIComponent(email.trim())}` : ""}`} className="font-medium text-accent-600 hover:underline dark:text-accent-400">
            Forgot password?
          </Link>
        </p>
        <Button type="submit" busy={busy} className="w-full">
          Log in
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-zinc-600 dark:text-zinc-400">
        New here?{" "}
        <Link href={`/register${next !== "/wishlists" ? `?next=${encodeURIComponent(next)}` : ""}`} className="font-medium text-accent-600 hover:underline dark:text-accent-400">
          Create an account
        </Link>
      </p>
    </>
  );
}
