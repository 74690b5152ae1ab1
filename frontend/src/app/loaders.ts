/**
 * Loading into the slices: the map payload (once), meters (on first close zoom), outages and the
 * live header figures (on start, on stream events, and on a slow poll as a safety net).
 */
import { ApiError } from "../api/client";
import { api, listOf, num, str, type Json } from "../api/endpoints";
import { parseMapAssets } from "../map/assets";
import { parseMeters } from "../map/meters";
import { loaded, mapDataStore } from "../state/mapData";
import { setOutages, setOutagesError, outagesStore, type OutageItem } from "../state/outages";
import { applyStateRows, deltaRows, gridStateStore, type StateDelta } from "../state/gridState";
import { parseCompactRows } from "../map/stateRows";
import { parseGridLoading } from "../map/gridLoading";
import { gridLoadingStore } from "../state/gridLoading";
import { latestKwBy, latestTotalKw } from "../features/ami/amiShapes";
import type { FeederDesign } from "../map/feederLoading";
import { liveStore, setError, setPart } from "../state/live";
import { roleFrom, roleStore } from "../state/role";
import { crewsStore } from "../state/crews";
import { getJson } from "../api/client";
import { layersStore } from "../features/layers/layersState";
import { loadTileStatus } from "../features/layers/tileStatus";

/**
 * The map payload; the live state's snapshot is requested at the same time (it is applied once the
 * payload is decoded), and the substation / feeder lists follow without holding the first render.
 */
export async function loadMapAssets(): Promise<void> {
  prefetchGridState();
  try {
    const bytes = await api.mapAssets();
    const t0 = performance.now();
    const assets = parseMapAssets(bytes);
    const ms = performance.now() - t0;
    // the live state (requested with the payload, tiny and usually here first) goes in with the map
    // data, so the first frame is drawn with live colours rather than a second one seconds later
    const state = await statePrefetch?.catch(() => null);
    const next = loaded(mapDataStore.get(), assets, bytes.byteLength, ms);
    // the live state goes in before the map data: no frame is ever drawn without its colours
    if (state) {
      statePrefetch = null;
      const rows = parseCompactRows(state.bytes);
      gridStateStore.update((s) => ({ ...applyStateRows(s, assets.count, next.byId, rows, state.version, true), epoch: state.epoch }));
      mark("gridStateApplied");
    }
    mapDataStore.update(() => next);
    mark("mapAssetsLoaded");
  } catch (e) {
    mapDataStore.update((s) => ({ ...s, error: e instanceof Error ? e.message : String(e) }));
  }
  void loadSubstationSizes();
  void loadFeederDesign();
}

async function loadSubstationSizes(): Promise<void> {
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

async function loadFeederDesign(): Promise<void> {
  try {
    const design = new Map<string, FeederDesign>();
    for (const f of listOf(await api.feeders(), "feeders")) {
      const pct = num(f.max_segment_loading_pct);
      const kw = num(f.peak_kw);
      if (pct !== null) design.set(str(f.feeder_id), { maxSegmentLoadingPct: pct, peakKw: kw ?? Number.NaN });
    }
    mapDataStore.update((s) => ({ ...s, feederDesign: design }));
  } catch {
    // Without the feeder list, lines show "no load data".
  }
}

type StateAnswer = Awaited<ReturnType<typeof api.gridStateCompact>>;
let statePrefetch: Promise<StateAnswer> | null = null;

/** Start fetching the compact snapshot now (consumed by the next full `loadGridState`). */
export function prefetchGridState(): void {
  statePrefetch ??= api.gridStateCompact();
  statePrefetch.catch(() => undefined); // a failure is reported when it is consumed
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

export async function loadOutages(): Promise<void> {
  try {
    const body = await api.outages({ status: "active", limit: 500 });
    const items = listOf(body, "items", "outages") as OutageItem[];
    outagesStore.update((s) => setOutages(s, items));
    const kpis = Array.isArray(body) ? null : body.kpis;
    if (kpis && typeof kpis === "object") liveStore.update((s) => setPart(s, "opsKpis", kpis as Json));
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    outagesStore.update((s) => setOutagesError(s, missing ? "missing" : e instanceof Error ? e.message : String(e)));
  }
}

/**
 * Live per-asset state: the compact snapshot first (only the assets off the zero state), then only
 * what changed since our version; a new server epoch (restart, new grid) starts again from a snapshot.
 */
export async function loadGridState(full = false): Promise<void> {
  const map = mapDataStore.get();
  const a = map.assets;
  if (!a) return layersStore.get().tileOnly ? loadTileStatus() : undefined; // tiles: their status list
  const prev = gridStateStore.get();
  const diff = !full && prev.version >= 0 && prev.out !== null;
  try {
    const pre = diff ? null : statePrefetch;
    if (pre) statePrefetch = null;
    const { bytes, version, epoch } = await (pre ?? api.gridStateCompact(diff ? prev.version : undefined));
    if (diff && epoch !== null && prev.epoch !== null && epoch !== prev.epoch) return loadGridState(true);
    const rows = parseCompactRows(bytes);
    gridStateStore.update((s) => ({ ...applyStateRows(s, a.count, map.byId, rows, version, !diff), epoch }));
    if (!diff) mark("gridStateApplied");
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    gridStateStore.update((s) => ({ ...s, error: missing ? "missing" : e instanceof Error ? e.message : String(e) }));
  }
}

/** An SSE `asset_status` delta: applied as is when it follows our version, else the diff is fetched. */
export function applyGridDelta(data: string): void {
  const map = mapDataStore.get();
  let d: StateDelta | null = null;
  try {
    d = JSON.parse(data) as StateDelta;
  } catch {
    d = null;
  }
  const rows = d && map.assets ? deltaRows(gridStateStore.get(), d) : null;
  if (!rows || !d || !map.assets) {
    void loadGridState();
    return;
  }
  const a = map.assets;
  const version = d.version;
  gridStateStore.update((s) => applyStateRows(s, a.count, map.byId, rows, version, false));
}

/** Stream nudges closer than this reuse the last answer (the flow follows the AMI hour; the backend caches it). */
const LOADING_MIN_INTERVAL_MS = 20_000;
let loadingFetchedAt = -Infinity;

/** Per-segment loading and bus voltages from the whole-grid power flow; decoded only when the ETag changed. */
export async function loadGridLoading(force = false): Promise<void> {
  const now = performance.now();
  if (!force && now - loadingFetchedAt < LOADING_MIN_INTERVAL_MS) return;
  loadingFetchedAt = now;
  try {
    const { res, etag } = await api.gridLoadingArrow();
    if (etag !== null && etag === gridLoadingStore.get().etag) return;
    const rows = parseGridLoading(await res.arrayBuffer());
    gridLoadingStore.update(() => ({ rows, etag, error: null }));
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    gridLoadingStore.update((s) => ({ ...s, error: missing ? "missing" : e instanceof Error ? e.message : String(e) }));
  }
}

async function part<K extends "kpis" | "reliability" | "crews" | "amiLoad" | "amiFeederKw">(key: K, fn: () => Promise<unknown>): Promise<void> {
  try {
    const v = await fn();
    const value = key === "crews" ? listOf(v as Json | Json[], "crews") : v;
    liveStore.update((s) => setPart(s, key, value as never));
  } catch (e) {
    const missing = e instanceof ApiError && e.missing;
    liveStore.update((s) => setError(s, key, missing ? "missing" : e instanceof Error ? e.message : String(e)));
  }
}

/** Work orders that place a crew away from its base (dispatched or on site), for the crew layer. */
export async function loadActiveWorkOrders(): Promise<void> {
  try {
    const body = await api.workOrders({ status: "assigned,in_progress", limit: 1000 });
    const workOrders = listOf(body, "items", "work_orders");
    crewsStore.update((s) => ({ ...s, workOrders, loaded: true }));
  } catch {
    // without them every crew is drawn at its base; the work-order panel reports the error itself
    crewsStore.update((s) => ({ ...s, loaded: true }));
  }
}

export async function loadLive(): Promise<void> {
  await Promise.all([
    loadActiveWorkOrders(),
    part("kpis", api.kpis),
    part("reliability", () => api.reliability()),
    part("crews", api.crews),
    part("amiLoad", async () => latestTotalKw(listOf(await api.ami("substations/load", { limit: 50_000 }), "rows"))),
    part("amiFeederKw", async () => latestKwBy(listOf(await api.ami("feeders/load", { limit: 50_000 }), "rows"), "feeder_id")),
  ]);
}

/** The caller's role, so operator actions are disabled for a viewer (with the reason). */
export async function loadRole(): Promise<void> {
  try {
    const me = await getJson<{ role?: unknown; can_operate?: unknown }>("/api/ui/me");
    roleStore.update(() => roleFrom(me));
  } catch (e) {
    // an older server without the route: actions stay open and the server's 403 says why
    if (e instanceof ApiError && e.missing) roleStore.update(() => roleFrom(null));
    else roleStore.update(() => ({ state: "known", role: null, canOperate: false }));
  }
}

/** Milestones of the first load (ms since navigation), read by benchmarks/bench_ui.py. */
function mark(name: string): void {
  const w = window as unknown as { __fluxopsMarks?: Record<string, number> };
  w.__fluxopsMarks ??= {};
  w.__fluxopsMarks[name] ??= performance.now();
}
