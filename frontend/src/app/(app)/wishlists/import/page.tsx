"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";

import { PageHeader } from "@/components/AppShell";
import { Button, buttonClass } from "@/components/ui/Button";
import { SelectField, TextField } from "@/components/ui/Field";
import { useToasts } from "@/components/ui/Toasts";
import { CURRENCIES } from "@/components/wishlists/ItemForm";
import { keys, refreshPaged } from "@/lib/api/hooks";
import { ApiError, messageOf, type FieldProblem } from "@/lib/api/problems";
import { describePreview, importKindOf, placeOf, previewFile, titleFromFileName, withCurrency, type ImportKind, type Preview } from "@/lib/data/importFile";
import { importLists } from "@/lib/data/transfer";

interface Chosen {
  name: string;
  kind: ImportKind;
  text: string;
  preview: Preview;
}

interface Failure {
  message: string;
  errors: FieldProblem[];
}

function failureOf(error: unknown): Failure {
  if (error instanceof ApiError) {
    if (error.status === 413) return { message: "The file is too large to import. Split it into smaller files and import them one by one.", errors: [] };
    if (error.status === 422) {
      const errors = error.problem.errors ?? [];
      // The detail repeats the list in one line; the list reads better alone.
      if (errors.length > 0) return { message: "Nothing was imported. Fix these in the file and try again:", errors };
      return { message: error.problem.detail || error.problem.title || "The file could not be imported.", errors };
    }
  }
  return { message: messageOf(error), errors: [] };
}

function FileSummary({ chosen }: { chosen: Chosen }) {
  const { preview } = chosen;
  const invalid = preview.kind === "invalid";
  return (
    <div
      role={invalid ? "alert" : "status"}
      data-testid="import-preview"
      className={`rounded-xl px-4 py-3 text-sm ring-1 ${
        invalid ? "bg-red-50 text-red-800 ring-red-200 dark:bg-red-950/50 dark:text-red-200 dark:ring-red-900" : "bg-zinc-50 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
      }`}
    >
      <p className="font-medium break-all">{chosen.name}</p>
      <p className="mt-1">{describePreview(preview)}</p>
      {!invalid && preview.titles.length > 0 && (
        <p className="mt-1 text-zinc-600 dark:text-zinc-400">
          {preview.kind === "csv" ? "First items: " : "Lists: "}
          {preview.titles.map((t) => `“${t}”`).join(", ")}
          {(preview.kind === "csv" ? preview.rows : preview.kind === "export" ? preview.lists : 1) > preview.titles.length ? ", …" : ""}
        </p>
      )}
    </div>
  );
}

export default function ImportPage() {
  const router = useRouter();
  const inputId = useId();
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [title, setTitle] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);

  async function choose(file: File | undefined) {
    setFailure(null);
    setChosen(null);
    if (!file) return;
    const kind = importKindOf(file.name, file.type);
    if (kind === null) {
      setChosen({ name: file.name, kind: "json", text: "", preview: { kind: "invalid", reason: "Choose a .json or a .csv file." } });
      return;
    }
    const text = await file.text();
    setChosen({ name: file.name, kind, text, preview: previewFile(kind, text) });
    setTitle(titleFromFileName(file.name));
  }

  async function submit() {
    if (!chosen || chosen.preview.kind === "invalid") return;
    setBusy(true);
    setFailure(null);
    try {
      const needsCurrency = chosen.preview.kind === "csv" && chosen.preview.needsCurrency;
      const body = needsCurrency ? withCurrency(chosen.text, currency) : chosen.text;
      const created = await importLists(chosen.kind, body, title.trim());
      void refreshPaged(keys.myLists);
      useToasts.getState().show(created.length === 1 ? `Imported “${created[0]?.title}”` : `Imported ${created.length} lists`);
      const only = created.length === 1 ? created[0] : undefined;
      router.push(only ? `/wishlists/${only.id}` : "/wishlists");
    } catch (error) {
      setFailure(failureOf(error));
      setBusy(false);
    }
  }

  const ready = chosen !== null && chosen.preview.kind !== "invalid" && (chosen.kind === "json" || title.trim() !== "");

  return (
    <>
      <title>Import lists · Wishlist</title>
      <PageHeader title="Import lists" subtitle="Bring in lists from an export of your data, a single list as JSON, or a spreadsheet saved as CSV." />
      <form
        className="max-w-xl space-y-5"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className="space-y-1">
          <label htmlFor={inputId} className="block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            File (.json or .csv)
          </label>
          <input
            id={inputId}
            type="file"
            accept=".json,.csv,application/json,text/csv"
            aria-describedby={`${inputId}-hint`}
            onChange={(e) => void choose(e.target.files?.[0])}
            className="block w-full text-sm text-zinc-700 file:mr-3 file:rounded-lg file:border-0 file:bg-zinc-100 file:px-3 file:py-2 file:text-sm file:font-medium file:text-zinc-900 hover:file:bg-zinc-200 dark:text-zinc-300 dark:file:bg-zinc-800 dark:file:text-zinc-100"
          />
          <p id={`${inputId}-hint`} className="text-xs text-zinc-500 dark:text-zinc-400">
            A CSV file’s first row names its columns: <code>title</code> (required), <code>url</code>, <code>price</code>, <code>currency</code>, <code>quantity</code>, <code>priority</code>, <code>notes</code>, <code>image_url</code>. Each further row becomes an item.
          </p>
        </div>

        {chosen && <FileSummary chosen={chosen} />}

        {chosen?.kind === "csv" && chosen.preview.kind !== "invalid" && (
          <TextField label="Title of the new list" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
        )}

        {chosen?.preview.kind === "csv" && chosen.preview.needsCurrency && (
          <SelectField label="Currency of the prices" value={currency} onChange={(e) => setCurrency(e.target.value)} hint="The file has prices but no currency column.">
            {CURRENCIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </SelectField>
        )}

        {failure && (
          <div role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950/50 dark:text-red-200">
            <p>{failure.message}</p>
            {failure.errors.length > 0 && (
              <ul className="mt-1 list-disc pl-5">
                {failure.errors.map((e, i) => (
                  <li key={i}>
                    <span className="font-medium">{placeOf(e.field)}</span>: {e.message.replace(/^Value error, /, "")}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}

        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={busy} disabled={!ready}>
            Import
          </Button>
          <Link href="/wishlists" className={buttonClass("secondary")}>
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
