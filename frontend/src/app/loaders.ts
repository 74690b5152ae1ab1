/**
 * Loading into the slices: the map payload (once), meters (on first close zoom), outages and the
 * live header figures (on start, on stream events, and on a slow poll as a safety net).
 */
import { ApiError } from "../api/client";
import { api, listOf, num, str, type Json } from "../api/endpoints";
import { parseMapAssets } from "../map/assets";
import { parseMeters } from "../map/meters";
import { loaded, mapDataStore } from "../state/mapData";
import { setAffected, setOutages, setOutagesError, outagesStore, type OutageItem } from "../state/outages";
import { liveStore, setError, setPart } from "../state/live";

export async function loadMapAssets(): Promise<void> {
  try {
    const bytes = await api.mapAssets();
    const t0 = performance.now();
    const assets = parseMapAssets(bytes);
    const ms = performance.now() - t0;
    mapDataStore.update((s) => loaded(s, assets, bytes.byteLength, ms));
  } catch (e) {
    mapDataStore.update((s) => ({ ...s, error: e instanceof Error ? e.message : String(e) }));
  }
  try {
    const subs = listOf(await api.substations(), "substations");
    const m = new Map<string, number>();
    for (const s of subs) {
      const c = num(s.customers) ?? num(s.customers_served) ?? num(s.n_customers);
      if (c !== null) m.set(str(s.substation_id), c);
    }
    mapDataStore.update((s) => ({ ...s, customersBySubstation: m }));
  } catch {
    // Sizes fall back to the payload's own customer column; nothing else depends on this list.
  }
}

export async function loadMeters(): Promise<void> {
  if (mapDataStore.get().metersState !== "idle") return;
  mapDataStore.update((s) => ({ ...s, metersState: "loading" }));
  try {
    const meters = parseMeters(await api.mapMeters());
    mapDataStore.update((s) => ({ ...s, meters, metersState: "loaded" }));
  } catch {
    mapDataStore.update((s) => ({ ...s, metersState: "error" }));
  }
}

/** Asset ids an outage de-energizes, from its detail (whichever list the backend names). */
export function affectedIdsOf(detail: Json): string[] {
  for (const k of ["de_energized_asset_ids", "de_energized_assets", "affected_asset_ids", "affected_assets", "asset_ids"]) {
    const v = detail[k];
    if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : str((x as Json).asset_id ?? (x as Json).id)));
  }
  const device = detail.device_id;
  return typeof device === "string" ? [device] : [];
}

export async function loadOutages(): Promise<void> {
  try {
    const items = listOf(await api.outages({ active: true }), "outages") as OutageItem[];
    outagesStore.update((s) => setOutages(s, items));
    const known = outagesStore.get().affected;
    await Promise.all(
      items
        .filter((o) => !(o.outage_id in known))
        .slice(0, 50)
        .map(async (o) => {
          const detail = await api.outage(o.outage_id);
          outagesStore.update((s) => setAffected(s, o.outage_id, affectedIdsOf(detail)));
        }),
    );
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    outagesStore.update((s) => setOutagesError(s, missing ? "missing" : e instanceof Error ? e.message : String(e)));
  }
}

async function part<K extends "kpis" | "reliability" | "crews" | "gridState">(key: K, fn: () => Promise<unknown>): Promise<void> {
  try {
    const v = await fn();
    const value = key === "crews" ? listOf(v as Json | Json[], "crews") : v;
    liveStore.update((s) => setPart(s, key, value as never));
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    liveStore.update((s) => setError(s, key, missing ? "missing" : e instanceof Error ? e.message : String(e)));
  }
}

export async function loadLive(): Promise<void> {
  await Promise.all([
    part("kpis", api.kpis),
    part("reliability", api.reliability),
    part("crews", api.crews),
    part("gridState", api.gridState),
  ]);
}
