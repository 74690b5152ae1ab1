/**
 * Typed calls, one per backend route the UI uses. Shapes come from the generated OpenAPI types
 * (`schema.d.ts`, `npm run gen:api`) where the backend declares them.
 */
import { getBytes, getJson, getResponse, sendJson, withQuery, type Query } from "./client";
import type { components } from "./schema";

export type Json = Record<string, unknown>;
type Schemas = components["schemas"];
export type AssetDetail = Schemas["AssetDetailOut"];
export type AssetPage = Schemas["AssetPageOut"];
export type Health = Schemas["HealthOut"];
export interface RelatedOut {
  asset_id: string;
  /** each with `relation`: device | member | feeds | inside */
  outages: Json[];
  work_orders: Json[];
}

export const api = {
  health: () => getJson<Health>("/health"),
  mapAssets: (signal?: AbortSignal) => getBytes("/api/map/assets", signal),
  mapMeters: (signal?: AbortSignal) => getBytes("/api/map/meters", signal),
  asset: (id: string) => getJson<AssetDetail>(`/api/assets/${encodeURIComponent(id)}`),
  assets: (q: Query) => getJson<AssetPage>("/api/assets", q),
  substations: () => getJson<Json | Json[]>("/api/substations"),
  feeders: () => getJson<Json | Json[]>("/api/feeders"),
  kpis: () => getJson<Json>("/api/kpis"),
  reliability: (q?: Query) => getJson<Json>("/api/reliability", q),
  /** open outages the asset is part of (from the outage's members) and its work orders */
  related: (id: string) => getJson<RelatedOut>(`/api/assets/${encodeURIComponent(id)}/related`),
  crews: () => getJson<Json | Json[]>("/api/crews"),
  /** the compact snapshot (rows off the zero state; int8 status, float32 loading) or, with changedSince, the diff */
  gridStateCompact: async (changedSince?: number) => {
    const res = await getResponse(withQuery("/api/grid/state", { format: "compact", changed_since: changedSince }));
    return {
      bytes: await res.arrayBuffer(),
      version: Number(res.headers.get("X-State-Version") ?? "0"),
      epoch: res.headers.get("X-State-Epoch"),
    };
  },
  gridStateArrow: async (changedSince?: number) => {
    const res = await getResponse(withQuery("/api/grid/state", { format: "arrow", changed_since: changedSince }));
    return { bytes: await res.arrayBuffer(), version: Number(res.headers.get("X-State-Version") ?? "0") };
  },
  gridLoadingArrow: async () => {
    const res = await getResponse("/api/grid/loading");
    return { res, etag: res.headers.get("ETag") };
  },
  outages: (q?: Query) => getJson<Json | Json[]>("/api/outages", q),
  outage: (id: string) => getJson<Json>(`/api/outages/${encodeURIComponent(id)}`),
  createOutage: (body: Json) => sendJson<Json>("POST", "/api/outages", body),
  workOrders: (q?: Query) => getJson<Json | Json[]>("/api/work-orders", q),
  createWorkOrder: (body: Json) => sendJson<Json>("POST", "/api/work-orders", body),
  /** action: assign (body crew_id), unassign, start, complete, cancel */
  workOrderAction: (id: string, action: string, body?: Json) =>
    sendJson<Json>("POST", `/api/work-orders/${encodeURIComponent(id)}/${action}`, body),
  /** crews ranked for a work order: available, qualified for the asset, nearest first */
  crewProposals: (id: string) => getJson<Json>(`/api/work-orders/${encodeURIComponent(id)}/crew-proposals`),
  /** cause_code: one of fluxops.ops.models.OUTAGE_CAUSES (IEEE 1782 categories) */
  setOutageCause: (id: string, cause: string) => sendJson<Json>("PUT", `/api/outages/${encodeURIComponent(id)}/cause`, { cause_code: cause }),
  outageAction: (id: string, action: "acknowledge" | "confirm" | "restore" | "cancel") =>
    sendJson<Json>("POST", `/api/outages/${encodeURIComponent(id)}/${action}`),
  ami: (path: string, q?: Query) => getJson<Json | Json[]>(`/api/ami/${path}`, q),
  cascadeGet: (path: string, q?: Query) => getJson<Json | Json[]>(`/api/cascade/${path}`, q),
  cascadePost: (path: string, body: unknown, q?: Query) => sendJson<Json>("POST", withQuery(`/api/cascade/${path}`, q), body),
  job: (id: string) => getJson<Json>(`/api/jobs/${encodeURIComponent(id)}`),
};

/** Lists come back either bare or wrapped ({"items": [...]} / {"<name>": [...]}); unwrap either. */
export function listOf(body: Json | Json[] | null | undefined, ...keys: string[]): Json[] {
  if (!body) return [];
  if (Array.isArray(body)) return body;
  for (const k of [...keys, "items", "data", "results"]) {
    const v = body[k];
    if (Array.isArray(v)) return v as Json[];
  }
  return [];
}

export function str(v: unknown, fallback = "—"): string {
  if (v === null || v === undefined || v === "") return fallback;
  return String(v);
}

export function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function fmt(v: unknown, digits = 0): string {
  const n = num(v);
  return n === null ? "—" : n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
