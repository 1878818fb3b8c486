"use client";

import { useState } from "react";
import useSWR from "swr";

import { api, data } from "@/lib/api/client";
import { keys } from "@/lib/api/hooks";
import { messageOf, type ApiError } from "@/lib/api/problems";
import type { EmailKind, EmailPreferences } from "@/lib/api/types";
import { KIND_LABELS } from "@/lib/notifications/text";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError } from "../ui/Field";
import { ErrorState, SkeletonList } from "../ui/States";
import { useToasts } from "../ui/Toasts";

type Delivery = EmailPreferences["delivery"];

const DELIVERIES: { value: Delivery; label: string; hint: string }[] = [
  { value: "immediate", label: "Send at once", hint: "One email for each thing that happens." },
  { value: "daily", label: "Daily digest", hint: "At most one email a day, with everything in it." },
];

function PreferencesForm({ saved, onSaved }: { saved: EmailPreferences; onSaved: (p: EmailPreferences) => void }) {
  const [kinds, setKinds] = useState<EmailKind[]>(saved.kinds);
  const [delivery, setDelivery] = useState<Delivery>(saved.delivery);
  const [savedNote, setSavedNote] = useState(false);
  const { busy, formError, submit } = useSubmit(async () => {
    onSaved(await data(api.PUT("/api/v1/notifications/email-preferences", { body: { kinds, delivery } })));
    setSavedNote(true);
    useToasts.getState().show("Email preferences saved");
  });
  const change = () => setSavedNote(false);

  return (
    <form className="space-y-5" onSubmit={(e) => (e.preventDefault(), void submit())}>
      <FormError message={formError} />
      <fieldset>
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Email me when</legend>
        <div className="mt-2 space-y-2">
          {(Object.keys(KIND_LABELS) as EmailKind[]).map((kind) => (
            <label key={kind} className="flex items-start gap-3 text-sm">
              <input
                type="checkbox"
                className="mt-0.5 size-4 rounded border-zinc-300 accent-accent-600"
                checked={kinds.includes(kind)}
                onChange={(e) => {
                  change();
                  setKinds(e.target.checked ? [...kinds, kind] : kinds.filter((k) => k !== kind));
                }}
              />
              <span>{KIND_LABELS[kind]}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">How often</legend>
        <div className="mt-2 space-y-2">
          {DELIVERIES.map((d) => (
            <label key={d.value} className="flex items-start gap-3 text-sm">
              <input
                type="radio"
                name="delivery"
                value={d.value}
                className="mt-0.5 size-4 accent-accent-600"
                checked={delivery === d.value}
                onChange={() => {
                  change();
                  setDelivery(d.value);
                }}
              />
              <span>
                {d.label}
                <span className="block text-xs text-zinc-500 dark:text-zinc-400">{d.hint}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="flex items-center gap-3">
        <Button type="submit" busy={busy}>
          Save email preferences
        </Button>
        <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
          {savedNote ? "Saved" : ""}
        </span>
      </div>
    </form>
  );
}

/** Which notifications also come by email, and how often. Nothing is mailed until chosen here. */
export function EmailPreferencesSection() {
  const prefs = useSWR<EmailPreferences, ApiError>(keys.emailPreferences, () => data(api.GET("/api/v1/notifications/email-preferences")));
  if (prefs.error) return <ErrorState message={messageOf(prefs.error)} onRetry={() => void prefs.mutate()} />;
  if (!prefs.data) return <SkeletonList rows={1} label="Loading email preferences" />;
  return <PreferencesForm saved={prefs.data} onSaved={(p) => void prefs.mutate(p, { revalidate: false })} />;
}
