"use client";

import { useState } from "react";

import type { Wishlist, WishlistCreate } from "@/lib/api/types";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, TextArea, TextField } from "../ui/Field";

interface Props {
  initial?: Wishlist;
  submitLabel: string;
  onSubmit: (values: WishlistCreate) => Promise<void>;
  onCancel: () => void;
}

export function WishlistForm({ initial, submitLabel, onSubmit, onCancel }: Props) {
  const [title, setTitle] = useState(initial?.title ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [date, setDate] = useState(initial?.occasion_date ?? "");
  const { busy, fieldErrors, formError, submit } = useSubmit(() =>
    onSubmit({ title: title.trim(), description: description.trim() || null, occasion_date: date || null }),
  );

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <FormError message={formError} />
      <TextField label="Title" required maxLength={200} autoFocus value={title} onChange={(e) => setTitle(e.target.value)} error={fieldErrors.title} placeholder="Birthday 2027" />
      <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldErrors.description} placeholder="Sizes, colours, what you already have…" />
      <TextField label="Occasion date" type="date" value={date} onChange={(e) => setDate(e.target.value)} error={fieldErrors.occasion_date} />
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
