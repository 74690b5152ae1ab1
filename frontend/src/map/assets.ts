/**
 * The map payload (`/api/map/assets`, Arrow IPC) decoded into flat typed arrays, once.
 *
 * Why typed arrays: deck.gl takes them as binary attributes directly (no per-row JS objects, no
 * per-row accessor calls), so 66K+ assets load and recolour in milliseconds. Strings (ids, names)
 * stay as one array for tooltips, search and the inspector.
 */
import { tableFromIPC, type Table, type Vector, type Data, DataType } from "apache-arrow";
import { arrowStrings } from "./arrowStrings";

export interface MapAssets {
  count: number;
  ids: string[];
  names: (string | null)[];
  /** asset type per row, as an index into `typeNames` */
  typeCode: Uint8Array;
  typeNames: string[];
  lon: Float32Array;
  lat: Float32Array;
  feederCode: Int32Array;
  feederIds: string[];
  substationCode: Int32Array;
  substationIds: string[];
  /** loading in percent of rating; NaN where unknown */
  loadingPct: Float32Array;
  /** 1 where the device is open (switches, ties) */
  isOpen: Uint8Array;
  /** 1 where a device is normally open (tie switch / bus tie) */
  isTie: Uint8Array;
  /** customers served downstream; NaN where unknown */
  customers: Float32Array;
  /** 1 where a critical customer (hospital, water, ...) is downstream */
  critical: Uint8Array;
  /** transformer nameplate (kVA; substations: capacity); NaN where not applicable */
  ratingKva: Float32Array;
  /** 1 where an element is de-energized in the last known state */
  deEnergized: Uint8Array;
  /** phases per row (segments, devices, transformers) as an index into `phaseNames`; -1 unknown / n.a. */
  phaseCode?: Int32Array;
  phaseNames?: string[];
  /** line geometry: row i's vertices are pathCoords[2*pathStart[i] .. 2*pathStart[i+1]) (lon,lat pairs) */
  pathStart: Int32Array;
  pathCoords: Float32Array;
}

type AnyVector = Vector<DataType>;

function child(table: Table, ...names: string[]): AnyVector | null {
  for (const n of names) {
    const c = table.getChild(n);
    if (c) return c as AnyVector;
  }
  return null;
}

function floats(col: AnyVector | null, n: number, fill = Number.NaN): Float32Array {
  const out = new Float32Array(n).fill(fill);
  if (!col) return out;
  let o = 0;
  for (const d of col.data) {
    const vals = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      out[o + i] = d.getValid(i) ? Number(vals[d.offset + i]) : fill;
    }
    o += d.length;
  }
  return out;
}

function bools(col: AnyVector | null, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (!col) return out;
  for (let i = 0; i < n; i++) {
    const v: unknown = col.get(i);
    out[i] = v === true || v === 1 || v === "open" ? 1 : 0;
  }
  return out;
}

function strings(col: AnyVector | null, n: number): (string | null)[] {
  return arrowStrings(col, n);
}

/** Codes into a deduplicated label list, for dictionary columns and plain strings alike. */
function codes(col: AnyVector | null, n: number): { code: Int32Array; labels: string[] } {
  const code = new Int32Array(n).fill(-1);
  const labels: string[] = [];
  if (!col) return { code, labels };
  const seen = new Map<string, number>();
  let o = 0;
  for (const d of col.data as Data<DataType>[]) {
    const dict = d.dictionary;
    if (dict) {
      // Map this chunk's dictionary onto the global label list once, then copy the indices.
      const local = new Int32Array(dict.length);
      for (let k = 0; k < dict.length; k++) {
        const s = String(dict.get(k));
        let g = seen.get(s);
        if (g === undefined) {
          g = labels.length;
          labels.push(s);
          seen.set(s, g);
        }
        local[k] = g;
      }
      const idx = d.values as ArrayLike<number>;
      for (let i = 0; i < d.length; i++) code[o + i] = d.getValid(i) ? local[Number(idx[d.offset + i])] : -1;
    } else {
      for (let i = 0; i < d.length; i++) {
        const s: unknown = col.get(o + i);
        if (s === null || s === undefined) continue;
        const key = String(s);
        let g = seen.get(key);
        if (g === undefined) {
          g = labels.length;
          labels.push(key);
          seen.set(key, g);
        }
        code[o + i] = g;
      }
    }
    o += d.length;
  }
  return { code, labels };
}

/**
 * Line paths from a List<Float> (lon,lat interleaved) or List<FixedSizeList<2, Float>> column.
 * Rows without a path (points) get zero vertices.
 */
function paths(col: AnyVector | null, n: number): { pathStart: Int32Array; pathCoords: Float32Array } {
  const pathStart = new Int32Array(n + 1);
  if (!col) return { pathStart, pathCoords: new Float32Array(0) };
  const chunks: { starts: Int32Array; flat: ArrayLike<number>; perVertex: number; len: number; offset: number }[] = [];
  let total = 0;
  for (const d of col.data as Data<DataType>[]) {
    const inner = d.children[0];
    const starts = d.valueOffsets as Int32Array;
    const isPairs = inner.children.length > 0;
    const flat = (isPairs ? inner.children[0].values : inner.values) as ArrayLike<number>;
    const innerOffset = isPairs ? inner.children[0].offset : inner.offset;
    const perVertex = isPairs ? 1 : 2;
    chunks.push({ starts, flat, perVertex, len: d.length, offset: innerOffset });
    total += (starts[d.offset + d.length] - starts[d.offset]) / perVertex;
  }
  const pathCoords = new Float32Array(Math.round(total) * 2);
  let row = 0;
  let v = 0;
  let ci = 0;
  for (const d of col.data as Data<DataType>[]) {
    const c = chunks[ci++];
    for (let i = 0; i < d.length; i++) {
      pathStart[row] = v;
      if (d.getValid(i)) {
        const a = c.starts[d.offset + i];
        const b = c.starts[d.offset + i + 1];
        const from = (a * 2) / c.perVertex + c.offset;
        const to = (b * 2) / c.perVertex + c.offset;
        for (let k = from; k < to; k++) pathCoords[v * 2 + (k - from)] = c.flat[k];
        v += (to - from) / 2;
      }
      row++;
    }
  }
  pathStart[n] = v;
  return { pathStart, pathCoords };
}

/**
 * Integer index columns (`feeder_index`, -1 = none) whose ids are listed once in the schema
 * metadata (`feeders`: JSON array), as fluxops.grid.map_assets writes them; falls back to a string
 * or dictionary id column.
 */
function indexed(table: Table, n: number, indexName: string, metaKey: string, ...idNames: string[]): { code: Int32Array; labels: string[] } {
  const col = child(table, indexName);
  const meta = table.schema.metadata.get(metaKey);
  if (col && meta) {
    const labels = JSON.parse(meta) as string[];
    const code = new Int32Array(n);
    let o = 0;
    for (const d of col.data) {
      const vals = d.values as ArrayLike<number>;
      for (let i = 0; i < d.length; i++) code[o + i] = d.getValid(i) ? Number(vals[d.offset + i]) : -1;
      o += d.length;
    }
    return { code, labels };
  }
  return codes(child(table, ...idNames), n);
}

export function decodeMapAssets(table: Table): MapAssets {
  const n = table.numRows;
  const type = codes(child(table, "asset_type", "type"), n);
  const typeCode = new Uint8Array(n);
  for (let i = 0; i < n; i++) typeCode[i] = type.code[i] < 0 ? 255 : type.code[i];
  const feeder = indexed(table, n, "feeder_index", "feeders", "feeder_id", "feeder");
  const substation = indexed(table, n, "substation_index", "substations", "substation_id", "substation");
  const stateCol = child(table, "state", "is_open");
  const normalCol = child(table, "normal_state", "is_tie");
  const energized = child(table, "energized");
  const deEnergized = energized ? bools(energized, n).map((e) => 1 - e) : bools(child(table, "de_energized"), n);
  const phases = codes(child(table, "phases"), n);
  return {
    count: n,
    ids: strings(child(table, "asset_id", "id"), n).map((s) => s ?? ""),
    names: strings(child(table, "name"), n),
    typeCode,
    typeNames: type.labels,
    lon: floats(child(table, "lon"), n),
    lat: floats(child(table, "lat"), n),
    feederCode: feeder.code,
    feederIds: feeder.labels,
    substationCode: substation.code,
    substationIds: substation.labels,
    loadingPct: floats(child(table, "loading_pct"), n),
    isOpen: bools(stateCol, n),
    isTie: bools(normalCol, n),
    customers: floats(child(table, "customers_downstream", "customers", "customers_served"), n),
    critical: bools(child(table, "critical"), n),
    ratingKva: floats(child(table, "rating_kva"), n),
    deEnergized: Uint8Array.from(deEnergized),
    phaseCode: phases.code,
    phaseNames: phases.labels,
    ...paths(child(table, "path", "coords", "geometry"), n),
  };
}

export function parseMapAssets(bytes: ArrayBuffer | Uint8Array): MapAssets {
  return decodeMapAssets(tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
}

/** Rows of the given types, in payload order. */
export function indicesOfTypes(a: MapAssets, types: readonly string[]): Int32Array {
  const wanted = new Uint8Array(256);
  for (const t of types) {
    const k = a.typeNames.indexOf(t);
    if (k >= 0) wanted[k] = 1;
  }
  let m = 0;
  for (let i = 0; i < a.count; i++) m += wanted[a.typeCode[i]];
  const out = new Int32Array(m);
  let j = 0;
  for (let i = 0; i < a.count; i++) if (wanted[a.typeCode[i]]) out[j++] = i;
  return out;
}

/** Interleaved lon/lat of the chosen rows, for a deck.gl `getPosition` binary attribute. */
export function gatherPositions(a: MapAssets, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * 2);
  for (let j = 0; j < rows.length; j++) {
    out[2 * j] = a.lon[rows[j]];
    out[2 * j + 1] = a.lat[rows[j]];
  }
  return out;
}

/** Row index by id, for search and for mapping outage/cascade ids onto the map. */
export function indexById(a: MapAssets): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < a.count; i++) m.set(a.ids[i], i);
  return m;
}

/** Counts by asset type name. */
export function countByType(a: MapAssets): Record<string, number> {
  const counts = new Int32Array(256);
  for (let i = 0; i < a.count; i++) counts[a.typeCode[i]]++;
  const out: Record<string, number> = {};
  a.typeNames.forEach((t, k) => (out[t] = counts[k]));
  return out;
}
