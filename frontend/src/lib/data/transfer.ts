/**
 * Moving data out of and into the platform: the export document (`GET
 * /api/v1/me/export`) and imports (`POST /api/v1/wishlists/import`).
 *
 * Both go through `authedFetch` rather than the typed client: the export is
 * saved as a file, byte for byte, and an import's body is the user's file
 * as it is, JSON or CSV.
 */
import { authedFetch } from "@/lib/api/client";
import { ApiError, problemOf } from "@/lib/api/problems";
import type { ImportResult } from "@/lib/api/types";

import { defaultExportName, filenameFromDisposition, saveBlob } from "./download";
import type { ImportKind } from "./importFile";

function apiUrl(path: string): URL {
  return new URL(path, window.location.origin);
}

async function send(request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await authedFetch(request);
  } catch {
    throw new ApiError(0, { detail: "network error" });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response;
}

/** Fetches everything the user has and saves it as a JSON file; returns the file's name. */
export async function downloadExport(): Promise<string> {
  const response = await send(new Request(apiUrl("/api/v1/me/export"), { credentials: "same-origin" }));
  const name = filenameFromDisposition(response.headers.get("content-disposition")) ?? defaultExportName(new Date());
  saveBlob(await response.blob(), name);
  return name;
}

/** Creates lists from a file's contents; a CSV file becomes one list called `title`. */
export async function importLists(kind: ImportKind, body: string, title: string): Promise<ImportResult["wishlists"]> {
  const url = apiUrl("/api/v1/wishlists/import");
  if (kind === "csv") url.searchParams.set("title", title);
  const response = await send(
    new Request(url, {
      method: "POST",
      body,
      headers: { "Content-Type": kind === "csv" ? "text/csv" : "application/json" },
      credentials: "same-origin",
    }),
  );
  return ((await response.json()) as ImportResult).wishlists;
}
