/** Fetches for the layer control: the tile layer list and TileJSON, vegetation per span, H3 cells,
 * spatial selections and the basemap labels. Every answer lands in `layersStore`. */
import { getJson, sendJson } from "../../api/client";
import { latLngToCell } from "h3-js";
import {
  ASSET_TILE_LAYERS,
  layersStore,
  setH3,
  setSelection,
  setTileUrls,
  type H3Cell,
  type NeighbourhoodLabel,
  type SelectionShape,
  type StreetLabel,
  type TileLayerInfo,
} from "./layersState";
import type { SelectionAnswer } from "./selectionTotals";
import { listRiskAssets } from "../risk/riskApi";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function loadTileLayers(): Promise<void> {
  try {
    const body = await getJson<{ layers: TileLayerInfo[] }>("/api/tiles");
    // A geo layer is offered only when its TileJSON says it holds data: version "none" (not generated
    // or imported for this grid) or no bounds means its tiles would be empty.
    const geo = body.layers.filter((l) => !ASSET_TILE_LAYERS.includes(l.name));
    const present: Record<string, boolean> = {};
    await Promise.all(
      geo.map(async (l) => {
        try {
          const doc = await getJson<TileJson>(l.tilejson);
          present[l.name] = doc.version !== "none" && Array.isArray(doc.bounds);
          if (present[l.name]) layersStore.update((s) => setTileUrls(s, l.name, localUrls(doc.tiles)));
        } catch {
          present[l.name] = false;
        }
      }),
    );
    layersStore.update((s) => ({ ...s, available: body.layers, present, availableError: null }));
  } catch (e) {
    layersStore.update((s) => ({ ...s, availableError: message(e) }));
  }
}

interface TileJson {
  tiles: string[];
  version?: string;
  bounds?: number[];
}

/** Tile URL templates made relative to this page's origin (the server writes its own base URL). */
function localUrls(tiles: string[]): string[] {
  return tiles.map((u) => {
    const url = new URL(u.replaceAll("{", "%7B").replaceAll("}", "%7D"), window.location.origin);
    return decodeURI(url.pathname + url.search).replaceAll("%7B", "{").replaceAll("%7D", "}");
  });
}

/** The tile URL templates of a layer, from its TileJSON. */
export async function loadTileJson(layer: TileLayerInfo): Promise<string[]> {
  const cached = layersStore.get().tileUrls[layer.name];
  if (cached) return cached;
  const doc = await getJson<TileJson>(layer.tilejson);
  const urls = localUrls(doc.tiles);
  layersStore.update((s) => setTileUrls(s, layer.name, urls));
  return urls;
}

interface VegetationItem {
  segment_id: string;
  months_to_encroachment: number | null;
}

export async function loadVegetation(): Promise<void> {
  if (layersStore.get().vegetation) return;
  try {
    const body = await getJson<{ items: VegetationItem[] }>("/api/spatial/vegetation", { limit: 5000 });
    const m = new Map<string, number | null>(body.items.map((i) => [i.segment_id, i.months_to_encroachment]));
    layersStore.update((s) => ({ ...s, vegetation: m, vegetationError: null }));
  } catch (e) {
    layersStore.update((s) => ({ ...s, vegetationError: message(e) }));
  }
}

interface H3Answer {
  cell_area_km2: number;
  value_total: number;
  truncated: boolean;
  items: H3Cell[];
}

const RISK_PAGES = 20;
const RISK_PAGE = 1000;

/** Risk per cell: the sum of each scored asset's probability of failing in the next 12 months
 * (expected failures), from the risk list (the H3 endpoint has no risk metric). */
async function riskCells(resolution: number, lonLat: (id: string) => [number, number] | null): Promise<{ cells: H3Cell[]; note: string | null }> {
  const sums = new Map<string, H3Cell>();
  let seen = 0;
  let total = 0;
  let unplaced = 0;
  for (let page = 0; page < RISK_PAGES; page++) {
    const body = await listRiskAssets({ limit: RISK_PAGE, offset: page * RISK_PAGE, sort: "asset_id" });
    total = body.total;
    for (const a of body.assets) {
      seen++;
      const own = typeof a.lon === "number" && typeof a.lat === "number" ? ([a.lon, a.lat] as [number, number]) : null;
      const p = own ?? lonLat(a.asset_id);
      if (!p || a.probability === null) {
        unplaced++;
        continue;
      }
      const cell = latLngToCell(p[1], p[0], resolution);
      const c = sums.get(cell) ?? { cell, value: 0, points: 0 };
      c.value += a.probability;
      c.points++;
      sums.set(cell, c);
    }
    if (seen >= total || body.assets.length === 0) break;
  }
  const parts: string[] = [];
  if (seen < total) parts.push(`first ${seen.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} scored assets`);
  if (unplaced > 0) parts.push(`${unplaced.toLocaleString("en-US")} not on the map (left out)`);
  return { cells: [...sums.values()], note: parts.length ? parts.join("; ") : null };
}

export async function loadH3(metric: string, resolution: number, lonLat: (id: string) => [number, number] | null): Promise<void> {
  layersStore.update((s) => setH3(s, { metric, resolution, error: null }));
  try {
    let cells: H3Cell[];
    let area: number | null = null;
    let truncated = false;
    let note: string | null = null;
    if (metric === "risk") {
      ({ cells, note } = await riskCells(resolution, lonLat));
    } else {
      const body = await getJson<H3Answer>("/api/spatial/h3", { metric, resolution, limit: 50000 });
      cells = body.items;
      area = body.cell_area_km2;
      truncated = body.truncated;
    }
    const max = cells.reduce((m, c) => Math.max(m, c.value), 0);
    const total = cells.reduce((t, c) => t + c.value, 0);
    if (layersStore.get().h3.metric !== metric) return; // switched meanwhile
    layersStore.update((s) => setH3(s, { cells, max, total, cellAreaKm2: area, truncated, note }));
  } catch (e) {
    layersStore.update((s) => setH3(s, { cells: [], max: 0, total: 0, error: message(e) }));
  }
}

export const SELECTION_LIMIT = 5000;

/** Where the selection's list comes from: the same request the export repeats with `format=`. */
export function selectionSource(shape: SelectionShape): { path: string; method: "GET" | "POST"; query?: Record<string, number>; body?: unknown } {
  if (shape.kind === "polygon") {
    return { path: "/api/spatial/within-polygon", method: "POST", body: { polygon: { type: "Polygon", coordinates: [shape.ring] }, limit: SELECTION_LIMIT } };
  }
  return {
    path: "/api/spatial/within-radius",
    method: "GET",
    query: { lon: shape.centre[0], lat: shape.centre[1], radius_m: Math.round(shape.radiusM * 10) / 10, limit: SELECTION_LIMIT },
  };
}

export async function runSelection(shape: SelectionShape): Promise<void> {
  layersStore.update((s) => setSelection(s, { shape, loading: true, error: null, answer: null }));
  try {
    const src = selectionSource(shape);
    const answer =
      src.method === "POST" ? await sendJson<SelectionAnswer>("POST", src.path, src.body) : await getJson<SelectionAnswer>(src.path, src.query);
    layersStore.update((s) => setSelection(s, { answer, loading: false }));
  } catch (e) {
    layersStore.update((s) => setSelection(s, { loading: false, error: message(e) }));
  }
}

/** Street labels of a view (bbox) or, without one, the longest streets of the grid; neighbourhoods
 * come with the first call (all of them) and are kept. */
let labelsSeq = 0;

export async function loadLabels(bbox?: [number, number, number, number]): Promise<void> {
  const seq = ++labelsSeq;
  try {
    const q = bbox ? { limit: 2000, bbox: bbox.map((v) => v.toFixed(5)).join(",") } : { limit: 5000 };
    const body = await getJson<{ streets: StreetLabel[]; neighbourhoods: NeighbourhoodLabel[] }>("/api/basemap/labels", q);
    const latest = seq === labelsSeq; // an earlier answer arriving late never replaces a later view's streets
    layersStore.update((s) => ({
      ...s,
      streets: latest ? body.streets : s.streets,
      neighbourhoods: bbox && s.neighbourhoods.length ? s.neighbourhoods : body.neighbourhoods,
    }));
  } catch {
    // No labels (an imported grid without addresses answers an empty list; an error leaves the map unlabelled).
  }
}
