"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";

import { Button } from "@/components/ui/Button";
import { FormError, TextField } from "@/components/ui/Field";
import { requestPasswordReset } from "@/lib/auth/actions";
import { useSubmit } from "@/lib/useSubmit";

export function ForgotPasswordForm() {
  const [email, setEmail] = useState(useSearchParams().get("email") ?? "");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    await requestPasswordReset(email.trim());
    setSentTo(email.trim());
  });

  if (sentTo !== null) {
    // The same words whether or not the address has an account: the page
    // must not tell a stranger who is registered.
    return (
      <>
        <h1 className="text-xl font-semibold">Check your email</h1>
        <p role="status" className="mt-3 text-sm text-zinc-700 dark:text-zinc-300">
          If an account exists for <strong className="break-all">{sentTo}</strong>, we sent it a link to choose a new password. The link works once and expires soon.
        </p>
        <p className="mt-3 text-sm text-zinc-600 dark:text-zinc-400">Nothing arrived? Check your spam folder, or try again in a few minutes.</p>
        <div className="mt-6 flex flex-col gap-3 text-center text-sm">
          <Link href="/login" className="font-medium text-accent-600 hover:underline dark:text-accent-400">
            Back to log in
          </Link>
          <button type="button" onClick={() => setSentTo(null)} className="font-medium text-zinc-600 hover:underline dark:text-zinc-400">
            Use another email address
          </button>
        </div>
      </>
    );
  }

  return (
    <>
      <h1 className="text-xl font-semibold">Forgot your password?</h1>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Enter your email and we’ll send you a link to choose a new one.</p>
      <form
        className="mt-6 space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <FormError message={formError} />
        <TextField label="Email" type="email" autoComplete="email" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} error={fieldErrors.email} />
        <Button type="submit" busy={busy} className="w-full">
          Send reset link
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-zinc-600 dark:text-zinc-400">
        Remembered it?{" "}
        <Link href="/login" className="font-medium text-accent-600 hover:underline dark:text-accent-400">
          Log in
        </Link>
      </p>
    </>
  );
}
