/**
 * Subsets of the map payload shaped for deck.gl binary data (built once per payload, reused for every
 * recolour): point subsets by asset type, and the line-segment paths with their own start indices.
 */
import { gatherPositions, indicesOfTypes, type MapAssets } from "./assets";

export interface PointSet {
  rows: Int32Array;
  positions: Float32Array;
}

export interface PathSet {
  rows: Int32Array;
  /** vertex start per path, plus the total at the end */
  startIndices: Int32Array;
  coords: Float32Array;
}

export function pointSet(a: MapAssets, types: readonly string[]): PointSet {
  const rows = indicesOfTypes(a, types);
  return { rows, positions: gatherPositions(a, rows) };
}

/** Rows of the given types that have a path of at least two vertices. */
export function pathSet(a: MapAssets, types: readonly string[]): PathSet {
  const candidates = indicesOfTypes(a, types);
  const keep: number[] = [];
  let vertices = 0;
  for (const r of candidates) {
    const nv = a.pathStart[r + 1] - a.pathStart[r];
    if (nv >= 2) {
      keep.push(r);
      vertices += nv;
    }
  }
  const rows = Int32Array.from(keep);
  const startIndices = new Int32Array(rows.length + 1);
  const coords = new Float32Array(vertices * 2);
  let v = 0;
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j];
    startIndices[j] = v;
    const from = a.pathStart[r] * 2;
    const to = a.pathStart[r + 1] * 2;
    coords.set(a.pathCoords.subarray(from, to), v * 2);
    v += (to - from) / 2;
  }
  startIndices[rows.length] = v;
  return { rows, startIndices, coords };
}

/**
 * The same lines as independent two-point segments (what deck.gl's LineLayer draws: far fewer
 * vertices per segment than a PathLayer with joints, which matters under software WebGL).
 * `segPath[k]` is the path (index into `paths.rows`) that segment k belongs to.
 */
export interface SegmentSet {
  sources: Float32Array;
  targets: Float32Array;
  segPath: Int32Array;
}

export function segmentSet(paths: PathSet): SegmentSet {
  const nPaths = paths.rows.length;
  const nSeg = paths.startIndices[nPaths] - nPaths;
  const sources = new Float32Array(nSeg * 2);
  const targets = new Float32Array(nSeg * 2);
  const segPath = new Int32Array(nSeg);
  let k = 0;
  for (let j = 0; j < nPaths; j++) {
    for (let v = paths.startIndices[j]; v < paths.startIndices[j + 1] - 1; v++) {
      sources[2 * k] = paths.coords[2 * v];
      sources[2 * k + 1] = paths.coords[2 * v + 1];
      targets[2 * k] = paths.coords[2 * v + 2];
      targets[2 * k + 1] = paths.coords[2 * v + 3];
      segPath[k++] = j;
    }
  }
  return { sources, targets, segPath };
}

/** Per-path RGBA repeated for each of the path's segments. */
export function perSegmentColours(segs: SegmentSet, rowColours: Uint8Array): Uint8Array {
  const out = new Uint8Array(segs.segPath.length * 4);
  for (let k = 0; k < segs.segPath.length; k++) {
    const j = segs.segPath[k];
    out[4 * k] = rowColours[4 * j];
    out[4 * k + 1] = rowColours[4 * j + 1];
    out[4 * k + 2] = rowColours[4 * j + 2];
    out[4 * k + 3] = rowColours[4 * j + 3];
  }
  return out;
}

/** Per-path RGBA expanded to one colour per vertex (PathLayer binary colours are per vertex). */
export function perVertexColours(paths: PathSet, rowColours: Uint8Array): Uint8Array {
  const n = paths.startIndices[paths.rows.length];
  const out = new Uint8Array(n * 4);
  for (let j = 0; j < paths.rows.length; j++) {
    for (let v = paths.startIndices[j]; v < paths.startIndices[j + 1]; v++) {
      out[4 * v] = rowColours[4 * j];
      out[4 * v + 1] = rowColours[4 * j + 1];
      out[4 * v + 2] = rowColours[4 * j + 2];
      out[4 * v + 3] = rowColours[4 * j + 3];
    }
  }
  return out;
}

/** Bounding box [minLon, minLat, maxLon, maxLat] of every positioned row. */
export function bounds(a: MapAssets): [number, number, number, number] | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < a.count; i++) {
    const x = a.lon[i];
    const y = a.lat[i];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return Number.isFinite(x0) ? [x0, y0, x1, y1] : null;
}
