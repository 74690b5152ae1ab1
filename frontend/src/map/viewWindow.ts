/**
 * The view window: at district zoom and closer, deck.gl gets only the lines, equipment and meters
 * around the view instead of the whole grid (demo: 25K segments, 48K devices, 164K meters).
 *
 * Why: under a software renderer (SwiftShader, a control-room VM without a GPU) a frame costs time per
 * element drawn, visible or not: a street-zoom frame with every meter took 1.3 s (issue 10 §3). The
 * window is the view padded by half its size on each side, so panning inside it needs no new data; it is
 * recomputed when the camera stops outside it, zooms in far past it, or crosses a zoom band. A linear
 * scan of the typed position arrays picks the subset (164K meters in a few ms), no index to maintain.
 *
 * The subsets have the full data's shapes (PointSet, SegmentSet, MeterData), so colouring, layers and
 * picking take them unchanged: point subsets keep their payload rows, segment subsets their path
 * index, and meter subsets their index into the full meter arrays (`source`).
 */
import type { PointSet, SegmentSet } from "./geometry";
import type { MapGeometry, MeterData } from "../state/mapData";
import { ZOOM } from "./zoom";

/** What the window holds, by zoom band: nothing beyond substations, lines, + equipment, + meters. */
export type WindowDetail = "none" | "lines" | "equipment" | "meters";

export interface ViewWindow {
  west: number;
  south: number;
  east: number;
  north: number;
  detail: WindowDetail;
}

/** Bounds of the view: [west, south, east, north]. */
export type ViewBounds = [number, number, number, number];

/** Share of the view's width / height added on each side. */
const PAD = 0.5;
/** A window wider than this many views (after zooming in) is rebuilt for the closer view. */
const MAX_SPAN_RATIO = 3;

export function detailFor(zoom: number): WindowDetail {
  if (zoom >= ZOOM.metersFrom - 0.5) return "meters";
  if (zoom >= ZOOM.streetFrom - 0.5) return "equipment";
  if (zoom >= ZOOM.districtFrom - 0.5) return "lines";
  return "none";
}

/** The window for a camera that stopped at `view` / `zoom`: `prev` when it still serves, else a new one. */
export function nextWindow(prev: ViewWindow | null, view: ViewBounds, zoom: number): ViewWindow {
  const detail = detailFor(zoom);
  const [w, s, e, n] = view;
  const dx = e - w;
  const dy = n - s;
  if (
    prev &&
    prev.detail === detail &&
    (detail === "none" ||
      (prev.west <= w && prev.south <= s && prev.east >= e && prev.north >= n && prev.east - prev.west <= MAX_SPAN_RATIO * dx))
  ) {
    return prev;
  }
  return { west: w - PAD * dx, south: s - PAD * dy, east: e + PAD * dx, north: n + PAD * dy, detail };
}

function inside(x: number, y: number, w: ViewWindow): boolean {
  return x >= w.west && x <= w.east && y >= w.south && y <= w.north;
}

const EMPTY_POINTS: PointSet = { rows: new Int32Array(0), positions: new Float32Array(0) };
const EMPTY_SEGMENTS: SegmentSet = { sources: new Float32Array(0), targets: new Float32Array(0), segPath: new Int32Array(0) };

export function pointsIn(p: PointSet, w: ViewWindow): PointSet {
  const keep: number[] = [];
  for (let j = 0; j < p.rows.length; j++) if (inside(p.positions[2 * j], p.positions[2 * j + 1], w)) keep.push(j);
  const rows = new Int32Array(keep.length);
  const positions = new Float32Array(keep.length * 2);
  keep.forEach((j, k) => {
    rows[k] = p.rows[j];
    positions[2 * k] = p.positions[2 * j];
    positions[2 * k + 1] = p.positions[2 * j + 1];
  });
  return { rows, positions };
}

/** Segments with a bounding box that meets the window (a long span crossing it is kept). */
export function segmentsIn(s: SegmentSet, w: ViewWindow): SegmentSet {
  const keep: number[] = [];
  const n = s.segPath.length;
  for (let k = 0; k < n; k++) {
    const x0 = s.sources[2 * k];
    const y0 = s.sources[2 * k + 1];
    const x1 = s.targets[2 * k];
    const y1 = s.targets[2 * k + 1];
    if (Math.max(x0, x1) >= w.west && Math.min(x0, x1) <= w.east && Math.max(y0, y1) >= w.south && Math.min(y0, y1) <= w.north) keep.push(k);
  }
  const sources = new Float32Array(keep.length * 2);
  const targets = new Float32Array(keep.length * 2);
  const segPath = new Int32Array(keep.length);
  keep.forEach((k, j) => {
    sources[2 * j] = s.sources[2 * k];
    sources[2 * j + 1] = s.sources[2 * k + 1];
    targets[2 * j] = s.targets[2 * k];
    targets[2 * j + 1] = s.targets[2 * k + 1];
    segPath[j] = s.segPath[k];
  });
  return { sources, targets, segPath };
}

/** The geometry deck.gl draws for this window: substations and line paths always whole (they are small). */
export function windowGeometry(g: MapGeometry, w: ViewWindow | null): MapGeometry {
  if (w === null) return g;
  const lines = w.detail !== "none";
  const equipment = w.detail === "equipment" || w.detail === "meters";
  return {
    substations: g.substations,
    lines: g.lines,
    segments: lines ? segmentsIn(g.segments, w) : EMPTY_SEGMENTS,
    transformers: equipment ? pointsIn(g.transformers, w) : EMPTY_POINTS,
    poles: equipment ? pointsIn(g.poles, w) : EMPTY_POINTS,
    switches: equipment ? pointsIn(g.switches, w) : EMPTY_POINTS,
    protective: equipment ? pointsIn(g.protective, w) : EMPTY_POINTS,
  };
}

/** The meters in the window (none below the meter band); `source` maps back to the full arrays. */
export function windowMeters(m: MeterData | null, w: ViewWindow | null): MeterData | null {
  if (m === null || w === null) return m;
  const keep: number[] = [];
  if (w.detail === "meters") {
    for (let i = 0; i < m.ids.length; i++) if (inside(m.positions[2 * i], m.positions[2 * i + 1], w)) keep.push(i);
  }
  const positions = new Float32Array(keep.length * 2);
  const transformerRows = new Int32Array(keep.length);
  const source = Int32Array.from(keep);
  const ids = keep.map((i, k) => {
    positions[2 * k] = m.positions[2 * i];
    positions[2 * k + 1] = m.positions[2 * i + 1];
    transformerRows[k] = m.transformerRows[i];
    return m.ids[i];
  });
  return { ids, positions, transformerRows, source };
}
