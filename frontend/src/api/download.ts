/**
 * Export a list answer as CSV, GeoJSON or Parquet: the same route with `format=` (the server's one
 * export module re-encodes any list it answers), saved under the server's Content-Disposition name.
 */
import { getToken } from "./auth";
import { withQuery, type Query } from "./client";

export type ExportFormat = "csv" | "geojson" | "parquet";
export const EXPORT_FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: "csv", label: "CSV" },
  { format: "geojson", label: "GeoJSON" },
  { format: "parquet", label: "Parquet" },
];

/** Where a list route exports from: its path, the query the table used, and for POST its body. */
export interface ExportSource {
  path: string;
  query?: Query;
  method?: "GET" | "POST";
  body?: unknown;
}

/** The URL of one export (GET) or the POST target. */
export function exportUrl(src: ExportSource, format: ExportFormat): string {
  return withQuery(src.path, { ...(src.query ?? {}), format });
}

/** `attachment; filename="outages.csv"` -> outages.csv; the fallback when the header is absent. */
export function filenameFrom(disposition: string | null, fallback: string): string {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? "");
  const name = m ? decodeURIComponent(m[1].trim()) : "";
  return /^[\w.-]+$/.test(name) ? name : fallback;
}

/** Fetch the export with the caller's token and hand it to the browser as a download. */
export async function downloadExport(src: ExportSource, format: ExportFormat): Promise<string> {
  const headers = new Headers();
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const post = src.method === "POST";
  if (post) headers.set("Content-Type", "application/json");
  const res = await fetch(exportUrl(src, format), {
    method: post ? "POST" : "GET",
    headers,
    body: post ? JSON.stringify(src.body ?? {}) : undefined,
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: unknown };
      if (typeof body.message === "string") message = body.message;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new Error(message);
  }
  const fallback = `${src.path.replace(/^\/api\//, "").replace(/[^\w.-]+/g, "-") || "export"}.${format}`;
  const name = filenameFrom(res.headers.get("Content-Disposition"), fallback);
  const url = URL.createObjectURL(await res.blob());
  try {
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}
