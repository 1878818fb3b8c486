"use client";

import { useState } from "react";

import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, TextField } from "../ui/Field";

interface Props {
  initial?: string;
  submitLabel: string;
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}

export function GroupForm({ initial = "", submitLabel, onSubmit, onCancel }: Props) {
  const [name, setName] = useState(initial);
  const { busy, fieldErrors, formError, submit } = useSubmit(() => onSubmit(name.trim()));
  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <FormError message={formError} />
      <TextField label="Group name" required maxLength={80} autoFocus value={name} onChange={(e) => setName(e.target.value)} error={fieldErrors.name} placeholder="The Smiths" />
      <div className="flex justify-end gap-2 pt-2">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" busy={busy}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
