"use client";

import { useEffect, useRef, useState } from "react";

import type { Item, ItemCreate } from "@/lib/api/types";
import { LinkPreviewer, fillEmpty, previewFailure, previewableUrl, type Fillable, type Filled, type PreviewOutcome } from "@/lib/links/preview";
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

export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK"];

/** How long typing in the link field must pause before the link is looked up. */
const PREVIEW_DEBOUNCE_MS = 700;

const FIELD_NAMES: Record<Filled, string> = { title: "name", imageUrl: "picture", price: "price", currency: "currency" };

interface Note {
  tone: "busy" | "filled" | "quiet";
  text: string;
}

function filledNote(filled: Filled[]): Note {
  if (filled.length === 0) return { tone: "quiet", text: "Nothing new to fill in from the link." };
  const names = filled.filter((f) => f !== "currency").map((f) => FIELD_NAMES[f]);
  return { tone: "filled", text: `Filled in from the link: ${names.join(", ")}.` };
}

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
  const [note, setNote] = useState<Note | null>(null);

  // The answer of a preview lands after some typing, maybe: it is merged
  // into the fields as they are then, not as they were when it was asked.
  const latest = useRef<Fillable>({ title, imageUrl, price, currency });
  useEffect(() => {
    latest.current = { title, imageUrl, price, currency };
  });
  const previewerRef = useRef<LinkPreviewer | null>(null);
  const initialUrl = initial?.url ?? null;
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pasted = useRef(false);
  useEffect(
    () => () => {
      if (debounce.current) clearTimeout(debounce.current);
      previewerRef.current?.cancel();
    },
    [],
  );

  function previewer(): LinkPreviewer {
    previewerRef.current ??= new LinkPreviewer(
      (outcome: PreviewOutcome) => {
        if (!outcome.ok) {
          setNote({ tone: "quiet", text: previewFailure(outcome.error) });
          return;
        }
        const { values, filled } = fillEmpty(latest.current, outcome.preview);
        setTitle(values.title);
        setImageUrl(values.imageUrl);
        setPrice(values.price);
        setCurrency(values.currency);
        setNote(filledNote(filled));
      },
      undefined,
      initialUrl,
    );
    return previewerRef.current;
  }

  function lookUp(link: string) {
    if (debounce.current) clearTimeout(debounce.current);
    if (previewer().request(link)) setNote({ tone: "busy", text: "Looking up the link…" });
  }

  function changeUrl(link: string) {
    setUrl(link);
    if (debounce.current) clearTimeout(debounce.current);
    previewer().changed(link);
    if (previewableUrl(link) === null) {
      previewer().reset();
      setNote(null);
    } else if (pasted.current) {
      lookUp(link);
    } else {
      debounce.current = setTimeout(() => lookUp(link), PREVIEW_DEBOUNCE_MS);
    }
    pasted.current = false;
  }
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
      <div className="space-y-1">
        <TextField
          label="Link"
          type="url"
          inputMode="url"
          placeholder="https://"
          value={url}
          onPaste={() => (pasted.current = true)}
          onChange={(e) => changeUrl(e.target.value)}
          onBlur={(e) => lookUp(e.target.value)}
          error={fieldErrors.url}
          hint={fieldErrors.url ? undefined : "Paste a shop’s link to fill in the rest."}
        />
        <p role="status" data-testid="link-preview-note" className={`text-xs ${note?.tone === "filled" ? "text-emerald-700 dark:text-emerald-400" : "text-zinc-500 dark:text-zinc-400"}`}>
          {note?.text}
        </p>
      </div>
      <div className="grid grid-cols-[1fr_7rem] gap-3">
        <TextField label="Price" inputMode="decimal" placeholder="19.99" value={price} onChange={(e) => setPrice(e.target.value)} error={fieldErrors.price} />
        <SelectField label="Currency" value={currency} onChange={(e) => setCurrency(e.target.value)} error={fieldErrors.currency}>
          {(CURRENCIES.includes(currency) ? CURRENCIES : [currency, ...CURRENCIES]).map((c) => (
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
