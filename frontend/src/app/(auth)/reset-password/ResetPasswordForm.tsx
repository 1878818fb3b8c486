"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

import { Button, buttonClass } from "@/components/ui/Button";
import { FormError, TextField } from "@/components/ui/Field";
import { Spinner } from "@/components/ui/States";
import { ApiError } from "@/lib/api/problems";
import { confirmPasswordReset } from "@/lib/auth/actions";
import { tokenFromFragment } from "@/lib/auth/resetToken";
import { useSession } from "@/lib/auth/session";
import { useSubmit } from "@/lib/useSubmit";

type Stage = "reading" | "form" | "missing" | "spent" | "done";

const linkClass = "font-medium text-accent-600 hover:underline dark:text-accent-400";

export function ResetPasswordForm() {
  const [token, setToken] = useState<string | null>(null);
  const [stage, setStage] = useState<Stage>("reading");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState<string | undefined>();

  useEffect(() => {
    function read() {
      const found = tokenFromFragment(window.location.hash);
      // A link opened in a tab already on this page changes only the fragment.
      if (!found && token !== null) return;
      setToken(found);
      setStage(found ? "form" : "missing");
      // Out of the address bar and the history entry: the token is a password for a while.
      if (found) window.history.replaceState(window.history.state, "", window.location.pathname);
    }
    // The fragment exists only in the browser, so it is read after hydration.
    read();
    window.addEventListener("hashchange", read);
    return () => window.removeEventListener("hashchange", read);
  }, [token]);

  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    if (!token) return;
    try {
      await confirmPasswordReset(token, password);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && error.problem.type?.endsWith("reset-token-invalid")) {
        setStage("spent");
        return;
      }
      throw error;
    }
    // Every session of the account has just ended, this browser's included.
    useSession.getState().signedOut();
    setStage("done");
  });

  if (stage === "reading") {
    return (
      <div className="flex justify-center py-6 text-zinc-500" role="status" aria-label="Loading">
        <Spinner className="size-6" />
      </div>
    );
  }

  if (stage === "done") {
    return (
      <>
        <h1 className="text-xl font-semibold">Password changed</h1>
        <p role="status" className="mt-3 text-sm text-zinc-700 dark:text-zinc-300">
          Your new password is set. For safety we logged you out on every device; log in again with the new password.
        </p>
        <Link href="/login" className={`mt-6 w-full ${buttonClass("primary")}`}>
          Log in
        </Link>
      </>
    );
  }

  if (stage === "missing" || stage === "spent") {
    return (
      <>
        <h1 className="text-xl font-semibold">{stage === "spent" ? "This link has expired or was already used" : "This link is incomplete"}</h1>
        <p role="alert" className="mt-3 text-sm text-zinc-700 dark:text-zinc-300">
          {stage === "spent"
            ? "Reset links work once and only for a short while. Ask for a new one and use the latest email."
            : "Open the link from the email again, or copy all of it into the address bar."}
        </p>
        <Link href="/forgot-password" className={`mt-6 w-full ${buttonClass("primary")}`}>
          Request a new link
        </Link>
        <p className="mt-6 text-center text-sm text-zinc-600 dark:text-zinc-400">
          <Link href="/login" className={linkClass}>
            Back to log in
          </Link>
        </p>
      </>
    );
  }

  return (
    <>
      <h1 className="text-xl font-semibold">Choose a new password</h1>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">You’ll be logged out everywhere once it is changed.</p>
      <form
        className="mt-6 space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          if (password !== repeat) {
            setMismatch("The two passwords are not the same.");
            return;
          }
          setMismatch(undefined);
          void submit();
        }}
      >
        <FormError message={formError} />
        <TextField label="New password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} autoFocus value={password} onChange={(e) => setPassword(e.target.value)} error={fieldErrors.new_password} hint="At least 8 characters." />
        <TextField label="Repeat new password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} value={repeat} onChange={(e) => (setRepeat(e.target.value), setMismatch(undefined))} error={mismatch} />
        <Button type="submit" busy={busy} className="w-full">
          Set new password
        </Button>
      </form>
    </>
  );
}
