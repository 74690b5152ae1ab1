/**
 * The layer control's slice: which geo tile layers the server has and which are on, the H3 heat
 * layer, the map selection (lasso / radius) with its answer, the basemap labels and the asset tile
 * mode. Pure updaters; the fetching lives in `layersApi.ts`.
 */
import { createStore } from "../../state/store";
import type { SelectionAnswer } from "./selectionTotals";

export interface TileLayerInfo {
  name: string;
  description: string;
  geometry: string;
  min_zoom: number;
  tilejson: string;
}

/** Tile layers that draw grid assets (the rest are geo layers: vegetation, water, flood, buildings…). */
export const ASSET_TILE_LAYERS = ["substations", "segments", "devices", "transformers", "poles", "meters"];

export interface H3Cell {
  cell: string;
  value: number;
  points: number;
}

export interface H3State {
  metric: string | null;
  resolution: number;
  cells: H3Cell[];
  max: number;
  cellAreaKm2: number | null;
  total: number;
  truncated: boolean;
  /** the figures cover only part of the data (e.g. risk over the first pages of scored assets) */
  note: string | null;
  error: string | null;
}

type Pt = [number, number];
export type SelectionShape = { kind: "polygon"; ring: Pt[] } | { kind: "radius"; centre: Pt; radiusM: number };

export interface SelectionState {
  mode: "off" | "lasso" | "radius";
  /** points of the lasso being drawn, or [centre, edge] of the radius */
  drawing: Pt[];
  shape: SelectionShape | null;
  answer: SelectionAnswer | null;
  loading: boolean;
  error: string | null;
}

export interface StreetLabel {
  name: string;
  path: [Pt, Pt];
  lon: number;
  lat: number;
}

export interface NeighbourhoodLabel {
  name: string;
  lon: number;
  lat: number;
}

export interface LayersState {
  available: TileLayerInfo[] | null;
  availableError: string | null;
  on: Record<string, boolean>;
  /** tile URL templates per layer, from its TileJSON */
  tileUrls: Record<string, string[]>;
  /** geo layers whose TileJSON says they hold data (a listed layer not generated or imported yet: false) */
  present: Record<string, boolean>;
  /** months to encroachment per span id (the vegetation endpoint), for spans drawn from the segment tiles */
  vegetation: Map<string, number | null> | null;
  vegetationError: string | null;
  h3: H3State;
  selection: SelectionState;
  labelsOn: boolean;
  streets: StreetLabel[];
  neighbourhoods: NeighbourhoodLabel[];
  /** "auto": asset tiles when the server reports a grid too large for the single payload */
  tileMode: "auto" | "on" | "off";
  /** elements of the loaded grid, meters included (`/api/kpis`); null until known */
  elementCount: number | null;
  /** the Arrow payload was not loaded: the grid's assets come from tiles alone */
  tileOnly: boolean;
  riskOn: boolean;
}

export const initialLayers: LayersState = {
  available: null,
  availableError: null,
  on: {},
  tileUrls: {},
  present: {},
  vegetation: null,
  vegetationError: null,
  h3: { metric: null, resolution: 8, cells: [], max: 0, cellAreaKm2: null, total: 0, truncated: false, note: null, error: null },
  selection: { mode: "off", drawing: [], shape: null, answer: null, loading: false, error: null },
  labelsOn: true,
  streets: [],
  neighbourhoods: [],
  tileMode: "auto",
  elementCount: null,
  tileOnly: false,
  riskOn: false,
};

export const layersStore = createStore<LayersState>(initialLayers);

/** Geo layers to offer: listed by the server, not an asset layer, not the vegetation layer (it has its
 * own entry) and present (its TileJSON has data). */
export const geoLayers = (s: LayersState): TileLayerInfo[] =>
  (s.available ?? []).filter((l) => !ASSET_TILE_LAYERS.includes(l.name) && !/veg/i.test(l.name) && s.present[l.name] === true);

export const setLayerOn = (s: LayersState, name: string, on: boolean): LayersState =>
  s.on[name] === on ? s : { ...s, on: { ...s.on, [name]: on } };

export const setTileUrls = (s: LayersState, name: string, urls: string[]): LayersState => ({ ...s, tileUrls: { ...s.tileUrls, [name]: urls } });

export const setSelectionMode = (s: LayersState, mode: SelectionState["mode"]): LayersState => ({
  ...s,
  selection: { ...s.selection, mode, drawing: [] },
});

export const setH3 = (s: LayersState, patch: Partial<H3State>): LayersState => ({ ...s, h3: { ...s.h3, ...patch } });

export const setSelection = (s: LayersState, patch: Partial<SelectionState>): LayersState => ({
  ...s,
  selection: { ...s.selection, ...patch },
});

/** The vegetation layer: the server's own tile layer when it lists one (offered once it holds data),
 * else (a server without it) spans from the segment tiles coloured from the vegetation endpoint. */
export function vegetationSource(s: LayersState): { tileLayer: string; fromSegments: boolean } | null {
  const own = (s.available ?? []).find((l) => /veg/i.test(l.name));
  if (own) return s.present[own.name] === true ? { tileLayer: own.name, fromSegments: false } : null;
  if ((s.available ?? []).some((l) => l.name === "segments")) return { tileLayer: "segments", fromSegments: true };
  return null;
}

/** Asset tiles instead of the Arrow payload: forced, or above `threshold` assets on auto. */
export function assetTilesOn(mode: LayersState["tileMode"], assetCount: number | null, threshold: number): boolean {
  if (mode === "on") return true;
  if (mode === "off") return false;
  return assetCount !== null && assetCount > threshold;
}
