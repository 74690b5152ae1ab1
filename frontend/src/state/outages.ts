/**
 * Active outages. Updated by polling and by the SSE stream; updaters are pure so the stream and the
 * list agree on one rule for merging. Which assets are de-energized comes from the grid state
 * (gridState.ts), not from here.
 */
import { createStore } from "./store";

/** Fields as in fluxops.ops.models.OUTAGES_SCHEMA. */
export interface OutageItem {
  outage_id: string;
  status: string;
  kind?: string;
  device_id?: string | null;
  device_type?: string | null;
  start_utc?: string | null;
  customers_affected?: number | null;
  customers_out?: number | null;
  critical_customers_affected?: number | null;
  feeder_id?: string | null;
  [k: string]: unknown;
}

export interface OutagesState {
  items: OutageItem[];
  selectedId: string | null;
  error: string | null;
  loaded: boolean;
}

export const initialOutages: OutagesState = { items: [], selectedId: null, error: null, loaded: false };

// OPEN_OUTAGE_STATUSES are proposed/confirmed; restored, merged and cancelled ones leave the active list.
const CLOSED = new Set(["restored", "merged", "cancelled"]);

export function isActive(o: OutageItem): boolean {
  return !CLOSED.has(String(o.status).toLowerCase());
}

export function setOutages(s: OutagesState, items: OutageItem[]): OutagesState {
  const active = items.filter(isActive);
  const selectedId = active.some((o) => o.outage_id === s.selectedId) ? s.selectedId : null;
  return { ...s, items: active, selectedId, error: null, loaded: true };
}

/** Insert or replace one outage (an SSE event); restored outages leave the active list. */
export function upsertOutage(s: OutagesState, o: OutageItem): OutagesState {
  const rest = s.items.filter((x) => x.outage_id !== o.outage_id);
  const items = isActive(o) ? [o, ...rest] : rest;
  const selectedId = s.selectedId === o.outage_id && !isActive(o) ? null : s.selectedId;
  return { ...s, items, selectedId };
}

export function selectOutage(s: OutagesState, id: string | null): OutagesState {
  return s.selectedId === id ? s : { ...s, selectedId: id };
}

export function setOutagesError(s: OutagesState, error: string): OutagesState {
  return { ...s, error, loaded: true };
}

export function selectedOutage(s: OutagesState): OutageItem | null {
  return s.items.find((o) => o.outage_id === s.selectedId) ?? null;
}

export const outagesStore = createStore<OutagesState>(initialOutages);
