/**
 * Active outages and which assets each one de-energizes. Updated by polling and by the SSE stream;
 * updaters are pure so the stream and the list agree on one rule for merging.
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
  /** de-energized asset ids per outage id (from the outage detail) */
  affected: Record<string, string[]>;
  error: string | null;
  loaded: boolean;
}

export const initialOutages: OutagesState = { items: [], selectedId: null, affected: {}, error: null, loaded: false };

// OPEN_OUTAGE_STATUSES are proposed/confirmed; restored and merged ones leave the active list.
const CLOSED = new Set(["restored", "merged"]);

export function isActive(o: OutageItem): boolean {
  return !CLOSED.has(String(o.status).toLowerCase());
}

export function setOutages(s: OutagesState, items: OutageItem[]): OutagesState {
  const active = new Set(items.map((o) => o.outage_id));
  const affected: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(s.affected)) if (active.has(k)) affected[k] = v;
  return { ...s, items, affected, error: null, loaded: true };
}

/** Insert or replace one outage (an SSE event); restored outages leave the active list. */
export function upsertOutage(s: OutagesState, o: OutageItem): OutagesState {
  const rest = s.items.filter((x) => x.outage_id !== o.outage_id);
  const items = isActive(o) ? [o, ...rest] : rest;
  const affected = { ...s.affected };
  if (!isActive(o)) delete affected[o.outage_id];
  const selectedId = s.selectedId === o.outage_id && !isActive(o) ? null : s.selectedId;
  return { ...s, items, affected, selectedId };
}

export function setAffected(s: OutagesState, outageId: string, assetIds: string[]): OutagesState {
  return { ...s, affected: { ...s.affected, [outageId]: assetIds } };
}

export function selectOutage(s: OutagesState, id: string | null): OutagesState {
  return s.selectedId === id ? s : { ...s, selectedId: id };
}

export function setOutagesError(s: OutagesState, error: string): OutagesState {
  return { ...s, error, loaded: true };
}

/** Every asset id out across active outages. */
export function allAffectedIds(s: OutagesState): string[] {
  return Object.values(s.affected).flat();
}

export const outagesStore = createStore<OutagesState>(initialOutages);
