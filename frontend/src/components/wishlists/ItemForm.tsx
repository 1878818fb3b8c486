"use client";

import { useState } from "react";

import type { Item, ItemCreate } from "@/lib/api/types";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, SelectField, TextArea, TextField } from "../ui/Field";

export const PRIORITIES: Record<number, string> = {
  5: "Must have",
  4: "Really want",
  3: "Would like",
  2: "Nice to have",
  1: "If you like",
};

const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK"];

interface Props {
  initial?: Item;
  submitLabel: string;
  onSubmit: (values: ItemCreate) => Promise<void>;
  onCancel: () => void;
}

export function ItemForm({ initial, submitLabel, onSubmit, onCancel }: Props) {
  const [title, setTitle] = useState(initial?.title ?? "");
  const [url, setUrl] = useState(initial?.url ?? "");
  const [price, setPrice] = useState(initial?.price ?? "");
  const [currency, setCurrency] = useState(initial?.currency ?? "EUR");
  const [imageUrl, setImageUrl] = useState(initial?.image_url ?? "");
  const [quantity, setQuantity] = useState(String(initial?.quantity ?? 1));
  const [priority, setPriority] = useState(String(initial?.priority ?? 3));
  const [notes, setNotes] = useState(initial?.notes ?? "");
  const { busy, fieldErrors, formError, submit } = useSubmit(() =>
    onSubmit({
      title: title.trim(),
      url: url.trim() || null,
      price: price.trim().replace(",", ".") || null,
      currency: price.trim() ? currency : null,
      image_url: imageUrl.trim() || null,
      quantity: Number(quantity),
      priority: Number(priority),
      notes: notes.trim() || null,
    }),
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
      <TextField label="What is it?" required maxLength={200} autoFocus value={title} onChange={(e) => setTitle(e.target.value)} error={fieldErrors.title} />
      <TextField label="Link" type="url" inputMode="url" placeholder="https://" value={url} onChange={(e) => setUrl(e.target.value)} error={fieldErrors.url} />
      <div className="grid grid-cols-[1fr_7rem] gap-3">
        <TextField label="Price" inputMode="decimal" placeholder="19.99" value={price} onChange={(e) => setPrice(e.target.value)} error={fieldErrors.price} />
        <SelectField label="Currency" value={currency} onChange={(e) => setCurrency(e.target.value)} error={fieldErrors.currency}>
          {CURRENCIES.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </SelectField>
      </div>
      <div className="grid grid-cols-2 gap-3">
        <TextField label="How many" type="number" min={1} max={99} required value={quantity} onChange={(e) => setQuantity(e.target.value)} error={fieldErrors.quantity} />
        <SelectField label="Priority" value={priority} onChange={(e) => setPriority(e.target.value)} error={fieldErrors.priority}>
          {[5, 4, 3, 2, 1].map((p) => (
            <option key={p} value={p}>
              {PRIORITIES[p]}
            </option>
          ))}
        </SelectField>
      </div>
      <TextField label="Picture link" type="url" inputMode="url" placeholder="https://" value={imageUrl} onChange={(e) => setImageUrl(e.target.value)} error={fieldErrors.image_url} />
      <TextArea label="Notes" value={notes} onChange={(e) => setNotes(e.target.value)} error={fieldErrors.notes} placeholder="Size, colour, where to find it…" />
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
