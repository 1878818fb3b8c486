/**
 * What an import file holds, read in the browser before it is sent: enough
 * for a preview ("2 lists, 14 items") and for catching the wrong file early.
 * The server validates everything again and has the last word.
 */

export type ImportKind = "json" | "csv";

export const EXPORT_FORMAT = "wishlist-platform-export";

export type Preview =
  | { kind: "export"; lists: number; items: number; titles: string[] }
  | { kind: "list"; lists: 1; items: number; titles: string[] }
  | { kind: "csv"; rows: number; columns: string[]; titles: string[]; needsCurrency: boolean }
  | { kind: "invalid"; reason: string };

/** How the file is sent, from its name (or its type when the name says nothing). */
export function importKindOf(name: string, type = ""): ImportKind | null {
  const lower = name.toLowerCase();
  if (lower.endsWith(".json") || type === "application/json") return "json";
  if (lower.endsWith(".csv") || type === "text/csv") return "csv";
  return null;
}

/** A new list's title from the file's name: `gift ideas.csv` → `gift ideas`. */
export function titleFromFileName(name: string): string {
  const base = name.replace(/\.[^.]*$/, "").trim();
  return (base || "Imported list").slice(0, 200);
}

/**
 * RFC 4180 records: fields split at commas, quoted fields may hold commas,
 * line breaks and doubled quotes (`""`). Lines may end in CRLF or LF. A
 * blank line is a record of one empty field, as the server counts it.
 */
function records(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const source = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quoted) {
      if (c === '"') {
        if (source[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && source[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function blank(record: string[]): boolean {
  return record.every((f) => f.trim() === "");
}

/** The file's rows, header first; blank lines (a trailing newline, a gap) are not rows. */
export function parseCsv(text: string): string[][] {
  return records(text).filter((r) => !blank(r));
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The file with a `currency` column added, `currency` in each row that has a
 * price: the server wants a price's currency, and a spreadsheet of one
 * shop's prices rarely says it. Blank lines stay, so that the row numbers
 * in the server's errors are still those of the user's file.
 */
export function withCurrency(text: string, currency: string): string {
  const all = records(text);
  const headerAt = all.findIndex((r) => !blank(r));
  const header = all[headerAt]?.map((c) => c.trim().toLowerCase());
  if (!header || header.includes("currency")) return text;
  const priceAt = header.indexOf("price");
  if (priceAt === -1) return text;
  return all
    .map((record, i) => {
      if (i < headerAt || blank(record)) return "";
      // A row longer than the header is the server's to refuse, as the user wrote it.
      if (record.length > header.length) return record.map(csvField).join(",");
      const cells = [...record, ...Array<string>(header.length - record.length).fill("")];
      const extra = i === headerAt ? "currency" : (record[priceAt] ?? "").trim() ? currency : "";
      return [...cells, extra].map(csvField).join(",");
    })
    .join("\r\n");
}

const SAMPLE = 3;

export function previewCsv(text: string): Preview {
  const [header, ...rows] = parseCsv(text);
  if (!header) return { kind: "invalid", reason: "The file is empty." };
  const columns = header.map((c) => c.trim().toLowerCase());
  const titleAt = columns.indexOf("title");
  if (titleAt === -1) {
    return { kind: "invalid", reason: "The first row must name the columns, and one of them must be “title”." };
  }
  const titles = rows
    .map((r) => (r[titleAt] ?? "").trim())
    .filter(Boolean)
    .slice(0, SAMPLE);
  return { kind: "csv", rows: rows.length, columns, titles, needsCurrency: columns.includes("price") && !columns.includes("currency") };
}

function itemsOf(list: unknown): number {
  const items = list && typeof list === "object" ? (list as { items?: unknown }).items : undefined;
  return Array.isArray(items) ? items.length : 0;
}

function titleOf(list: unknown): string {
  const title = list && typeof list === "object" ? (list as { title?: unknown }).title : undefined;
  return typeof title === "string" ? title : "";
}

export function previewJson(text: string): Preview {
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    return { kind: "invalid", reason: "This is not valid JSON." };
  }
  if (!document || typeof document !== "object" || Array.isArray(document)) {
    return { kind: "invalid", reason: "Expected an export of your data or a single list." };
  }
  const doc = document as Record<string, unknown>;
  if (doc.format === EXPORT_FORMAT) {
    const lists = Array.isArray(doc.wishlists) ? doc.wishlists : [];
    return {
      kind: "export",
      lists: lists.length,
      items: lists.reduce<number>((sum, l) => sum + itemsOf(l), 0),
      titles: lists.map(titleOf).filter(Boolean).slice(0, SAMPLE),
    };
  }
  if (typeof doc.title === "string" && Array.isArray(doc.items)) {
    return { kind: "list", lists: 1, items: doc.items.length, titles: [doc.title] };
  }
  return { kind: "invalid", reason: "Expected an export of your data or a single list with a title and items." };
}

export function previewFile(kind: ImportKind, text: string): Preview {
  return kind === "csv" ? previewCsv(text) : previewJson(text);
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The preview in a sentence, as the import screen shows it. */
export function describePreview(preview: Preview): string {
  switch (preview.kind) {
    case "export":
      return `${count(preview.lists, "list", "lists")} with ${count(preview.items, "item", "items")} in all`;
    case "list":
      return `1 list with ${count(preview.items, "item", "items")}`;
    case "csv":
      return `${count(preview.rows, "row", "rows")}: each becomes an item`;
    case "invalid":
      return preview.reason;
  }
}

/**
 * Where in the file an import error is, in words: `row 3.price` → `Row 3,
 * price`; `body.wishlists.0.items.2.title` → `List 1, item 3, title`.
 */
export function placeOf(field: string): string {
  const parts = field.replace(/^body\.?/, "").split(".").filter(Boolean);
  const words: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const next = parts[i + 1];
    if ((part === "wishlists" || part === "items") && next !== undefined && /^\d+$/.test(next)) {
      words.push(`${part === "wishlists" ? "list" : "item"} ${Number(next) + 1}`);
      i++;
    } else {
      words.push(part.replace(/_/g, " "));
    }
  }
  const text = words.join(", ") || "file";
  return text.charAt(0).toUpperCase() + text.slice(1);
}
