/**
 * Server-side search (/api/search): premises by address, customer name or account, streets, and every
 * asset by id. Pure mapping here; the box merges these hits under the map payload's own.
 */
import { getJson } from "../../api/client";
import type { components } from "../../api/schema";

export type SearchOut = components["schemas"]["SearchOut"];

export interface RemoteHit {
  id: string;
  kind: string;
  label: string;
  detail: string;
  lon: number;
  lat: number;
}

export function remoteHits(body: SearchOut | null | undefined): RemoteHit[] {
  return (body?.items ?? [])
    .filter((h) => Number.isFinite(h.lon) && Number.isFinite(h.lat))
    .map((h) => ({ id: h.id, kind: h.kind, label: h.label, detail: h.detail ?? "", lon: h.lon, lat: h.lat }));
}

/** Merge server hits after the local ones, without repeating an id. */
export function mergeHits<T extends { id: string }>(local: T[], remote: RemoteHit[], limit = 12): (T | RemoteHit)[] {
  const seen = new Set(local.map((h) => h.id));
  return [...local, ...remote.filter((h) => !seen.has(h.id))].slice(0, limit);
}

/** Zoom for a server hit: a street shows its block, a premise its lot. */
export function remoteZoom(kind: string): number {
  if (kind === "street") return 16;
  if (kind === "meter") return 18;
  if (kind === "substation") return 13;
  if (kind === "feeder") return 12.5;
  return 16;
}

export function searchApi(q: string, signal?: AbortSignal): Promise<SearchOut> {
  return getJson<SearchOut>("/api/search", { q, limit: 10 }, signal);
}
