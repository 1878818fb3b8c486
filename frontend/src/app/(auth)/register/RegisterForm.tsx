"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import { Button } from "@/components/ui/Button";
import { FormError, TextField } from "@/components/ui/Field";
import { register } from "@/lib/auth/actions";
import { safeNext } from "@/lib/navigation";
import { useSubmit } from "@/lib/useSubmit";

export function RegisterForm() {
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNext(params.get("next"));
  const [displayName, setDisplayName] = useState("");
  // An invitation email links here with the address the list was shared with.
  const [email, setEmail] = useState(params.get("email") ?? "");
  const [password, setPassword] = useState("");
  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    await register(email, password, displayName);
    router.replace(next);
  });

  return (
    <>
      <h1 className="text-xl font-semibold">Create your account</h1>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Lists shared with your email show up as soon as you join.</p>
      <form
        className="mt-6 space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <FormError message={formError} />
        <TextField label="Your name" autoComplete="name" required maxLength={80} value={displayName} onChange={(e) => setDisplayName(e.target.value)} error={fieldErrors.display_name} hint="Friends see this on your lists." />
        <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldErrors.email} />
        <TextField label="Password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} value={password} onChange={(e) => setPassword(e.target.value)} error={fieldErrors.password} hint="At least 8 characters." />
        <Button type="submit" busy={busy} className="w-full">
          Create account
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-zinc-600 dark:text-zinc-400">
        Already have an account?{" "}
        <Link href={`/login${next !== "/wishlists" ? `?next=${encodeURIComponent(next)}` : ""}`} className="font-medium text-accent-600 hover:underline dark:text-accent-400">
          Log in
        </Link>
      </p>
    </>
  );
}
