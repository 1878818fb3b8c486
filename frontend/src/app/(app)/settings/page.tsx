"use client";

import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";

import { PageHeader } from "@/components/AppShell";
import { EmailPreferencesSection } from "@/components/settings/EmailPreferences";
import { YourData } from "@/components/settings/YourData";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { FormError, TextField } from "@/components/ui/Field";
import { useToasts } from "@/components/ui/Toasts";
import { api, data } from "@/lib/api/client";
import { ApiError } from "@/lib/api/problems";
import { logOut } from "@/lib/auth/actions";
import { useSession } from "@/lib/auth/session";
import { useSubmit } from "@/lib/useSubmit";

function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  return (
    <section className="grid gap-4 border-b border-zinc-200 py-8 first:pt-0 md:grid-cols-[16rem_1fr] dark:border-zinc-800">
      <div>
        <h2 className="font-semibold">{title}</h2>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</p>
      </div>
      <div className="max-w-md">{children}</div>
    </section>
  );
}

function ProfileForm() {
  const user = useSession((s) => s.user);
  const setUser = useSession((s) => s.setUser);
  const [name, setName] = useState(user?.display_name ?? "");
  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    setUser(await data(api.PATCH("/api/v1/auth/me", { body: { display_name: name.trim() } })));
    useToasts.getState().show("Name saved");
  });
  return (
    <form className="space-y-4" onSubmit={(e) => (e.preventDefault(), void submit())}>
      <FormError message={formError} />
      <TextField label="Email" value={user?.email ?? ""} readOnly disabled />
      <TextField label="Display name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} error={fieldErrors.display_name} />
      <Button type="submit" busy={busy}>
        Save name
      </Button>
    </form>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const { busy, fieldErrors, formError, submit } = useSubmit(async () => {
    try {
      await data(api.POST("/api/v1/auth/me/password", { body: { current_password: current, new_password: next } }));
    } catch (error) {
      // A 401 here is about the password typed, so it belongs under that field.
      if (error instanceof ApiError && error.status === 401) {
        throw new ApiError(401, { ...error.problem, errors: [{ field: "current_password", message: "That is not your current password." }] });
      }
      throw error;
    }
    setCurrent("");
    setNext("");
    useToasts.getState().show("Password changed. Your other sessions were logged out.");
  });
  return (
    <form className="space-y-4" onSubmit={(e) => (e.preventDefault(), void submit())}>
      <FormError message={formError} />
      <TextField label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={fieldErrors.current_password} />
      <TextField label="New password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} value={next} onChange={(e) => setNext(e.target.value)} error={fieldErrors.new_password} hint="At least 8 characters." />
      <Button type="submit" busy={busy}>
        Change password
      </Button>
    </form>
  );
}

function DeleteAccount() {
  const user = useSession((s) => s.user);
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [confirmation, setConfirmation] = useState("");
  const { busy, formError, submit } = useSubmit(async () => {
    await data(api.DELETE("/api/v1/auth/me"));
    useSession.getState().signedOut();
    router.replace("/register");
  });
  const confirmed = confirmation.trim().toLowerCase() === user?.email.toLowerCase();
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)}>
        Delete my account
      </Button>
      <Dialog open={open} title="Delete your account?" onClose={() => setOpen(false)}>
        <form className="space-y-4" onSubmit={(e) => (e.preventDefault(), confirmed && void submit())}>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Your lists, items, shares and reservations will be deleted everywhere within seconds. This cannot be undone.</p>
          <FormError message={formError} />
          <TextField label={`Type your email (${user?.email}) to confirm`} value={confirmation} onChange={(e) => setConfirmation(e.target.value)} autoComplete="off" />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" busy={busy} disabled={!confirmed}>
              Delete forever
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

export default function SettingsPage() {
  const router = useRouter();
  return (
    <>
      <title>Settings · Wishlist</title>
      <PageHeader
        title="Account settings"
        actions={
          <Button
            variant="secondary"
            onClick={async () => {
              await logOut().catch(() => undefined);
              router.replace("/login");
            }}
          >
            Log out
          </Button>
        }
      />
      <Section title="Profile" description="Friends see your name on your lists.">
        <ProfileForm />
      </Section>
      <Section title="Password" description="Changing it logs you out everywhere else.">
        <PasswordForm />
      </Section>
      <Section title="Email notifications" description="What you also hear about by email. Nothing is sent until you choose it.">
        <EmailPreferencesSection />
      </Section>
      <Section title="Your data" description="Take a copy of everything you keep here, or bring lists in from a file.">
        <YourData />
      </Section>
      <Section title="Delete account" description="Removes you and everything you made, in every part of the system.">
        <DeleteAccount />
      </Section>
    </>
  );
}
