/** The risk panel's slice: filters and paging of the ranked table, and the page shown. */
import { createStore } from "../../state/store";
import type { RiskPage } from "./riskApi";

export interface RiskFilters {
  assetType: string;
  feederId: string;
  sort: string;
  offset: number;
  limit: number;
}

export const initialRiskFilters: RiskFilters = { assetType: "", feederId: "", sort: "-probability", offset: 0, limit: 25 };

export interface RiskMapRows {
  ids: string[];
  probability: Float32Array;
  /** consequence per row (NaN when not computed), and which field it is */
  consequence: Float32Array;
  consequenceKey: string | null;
  total: number;
  /** the row's own position when the API gives one (NaN: take it from the map payload) */
  lon: Float32Array;
  lat: Float32Array;
}

export interface RiskState {
  filters: RiskFilters;
  /** the rows drawn on the map (top of the ranking), loaded when the risk layer is on */
  map: RiskMapRows | null;
  mapError: string | null;
}

export const riskStore = createStore<RiskState>({ filters: initialRiskFilters, map: null, mapError: null });

/** A filter change goes back to the first page; paging keeps the filters. */
export function setFilter(f: RiskFilters, patch: Partial<RiskFilters>): RiskFilters {
  const paging = Object.keys(patch).every((k) => k === "offset");
  return { ...f, ...patch, offset: paging ? Math.max(0, patch.offset ?? f.offset) : 0 };
}

export function pageLabel(f: RiskFilters, total: number): string {
  if (total === 0) return "no assets";
  const to = Math.min(total, f.offset + f.limit);
  return `${(f.offset + 1).toLocaleString("en-US")}–${to.toLocaleString("en-US")} of ${total.toLocaleString("en-US")}`;
}

export function toMapRows(page: RiskPage, key: string | null): RiskMapRows {
  const n = page.assets.length;
  const probability = new Float32Array(n);
  const consequence = new Float32Array(n).fill(Number.NaN);
  page.assets.forEach((a, i) => {
    probability[i] = a.probability ?? Number.NaN;
    const c = key ? a[key] : null;
    if (typeof c === "number") consequence[i] = c;
  });
  const pos = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : Number.NaN);
  const lon = Float32Array.from(page.assets, (a) => pos(a.lon));
  const lat = Float32Array.from(page.assets, (a) => pos(a.lat));
  return { ids: page.assets.map((a) => a.asset_id), probability, consequence, consequenceKey: key, total: page.total, lon, lat };
}
