"use client";

import Link from "next/link";
import { useState } from "react";

import { downloadExport } from "@/lib/data/transfer";
import { useSubmit } from "@/lib/useSubmit";

import { Button, buttonClass } from "../ui/Button";
import { FormError } from "../ui/Field";

/** Everything the user has, as a file; and the way back in. */
export function YourData() {
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, formError, submit } = useSubmit(async () => {
    setSaved(null);
    setSaved(await downloadExport());
  });
  return (
    <div className="space-y-4">
      <FormError message={formError} />
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        One JSON file with your account, your lists and their items, your reservations, the lists shared with you and your notifications.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <Button onClick={() => void submit()} busy={busy}>
          Download my data
        </Button>
        <Link href="/wishlists/import" className={buttonClass("secondary")}>
          Import lists
        </Link>
      </div>
      <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
        {saved ? `Saved as ${saved}` : ""}
      </p>
    </div>
  );
}
