/**
 * The decoded map payload and the geometry derived from it once (per-type point sets, line paths,
 * id index). Kept outside React state: the arrays are large and never change after loading.
 */
import { indexById, type MapAssets } from "../map/assets";
import { pathSet, pointSet, segmentSet, type PathSet, type PointSet, type SegmentSet } from "../map/geometry";
import { createStore } from "./store";
import type { FeederDesign } from "../map/feederLoading";

/** Asset types per map representation (names from fluxops.grid.models). */
export const TYPES = {
  substation: ["substation"],
  lines: ["line_segment"],
  transformers: ["transformer"],
  poles: ["pole"],
  switches: ["switch", "tie_switch", "bus_tie"],
  protective: ["breaker", "recloser", "sectionalizer", "fuse"],
} as const;

export interface MapGeometry {
  substations: PointSet;
  lines: PathSet;
  /** the same lines as two-point segments, for drawing */
  segments: SegmentSet;
  transformers: PointSet;
  poles: PointSet;
  switches: PointSet;
  protective: PointSet;
}

export interface MeterData {
  ids: string[];
  positions: Float32Array;
  /** row of each meter's transformer in the map payload (-1: unknown) */
  transformerRows: Int32Array;
  /** in a view-window subset (map/viewWindow.ts): each meter's index in the full arrays */
  source?: Int32Array;
}

export interface MapDataState {
  assets: MapAssets | null;
  byId: Map<string, number>;
  geometry: MapGeometry | null;
  bytes: number;
  decodeMs: number;
  meters: MeterData | null;
  metersState: "idle" | "loading" | "loaded" | "error";
  error: string | null;
  /** customers per substation id, from /api/substations (sizes the metro discs) */
  customersBySubstation: Map<string, number>;
  /** per feeder id: design-peak loading and peak kW, from /api/feeders */
  feederDesign: Map<string, FeederDesign>;
}

export const initialMapData: MapDataState = {
  assets: null,
  byId: new Map(),
  geometry: null,
  bytes: 0,
  decodeMs: 0,
  meters: null,
  metersState: "idle",
  error: null,
  customersBySubstation: new Map(),
  feederDesign: new Map(),
};

export function buildGeometry(a: MapAssets): MapGeometry {
  const lines = pathSet(a, TYPES.lines);
  return {
    substations: pointSet(a, TYPES.substation),
    lines,
    segments: segmentSet(lines),
    transformers: pointSet(a, TYPES.transformers),
    poles: pointSet(a, TYPES.poles),
    switches: pointSet(a, TYPES.switches),
    protective: pointSet(a, TYPES.protective),
  };
}

export function loaded(s: MapDataState, assets: MapAssets, bytes: number, decodeMs: number): MapDataState {
  return { ...s, assets, byId: indexById(assets), geometry: buildGeometry(assets), bytes, decodeMs, error: null };
}

export const mapDataStore = createStore<MapDataState>(initialMapData);
