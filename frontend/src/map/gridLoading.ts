/**
 * Per-segment loading and voltage violations from `/api/grid/loading` (a whole-grid power flow at the
 * latest complete AMI hour, or at design peak without AMI), decoded once per answer and laid over the
 * map rows. Voltage violations also come from `/api/grid/state`: a meter whose AMI voltage status is
 * warning/critical (ANSI C84.1) marks its transformer. Pure functions: new arrays out.
 */
import { tableFromIPC } from "apache-arrow";
import type { MeterData } from "../state/mapData";

export interface GridLoadingRows {
  assetId: string[];
  kind: string[];
  /** percent of ampacity (segments); NaN elsewhere / de-energized */
  loadingPct: Float32Array;
  /** bus / transformer voltage magnitude, pu; NaN elsewhere */
  vPu: Float32Array;
  /** 1 where the voltage is outside the backend's band (ANSI C84.1 Range A, 0.95–1.05 pu) */
  violation: Uint8Array;
  /** segments: 1 where power flows back towards the substation (net PV export downstream) */
  reverse: Uint8Array;
  /** "ami" or "design_peak" */
  loadSource: string;
  /** the AMI hour the flow used (ISO), null at design peak */
  hourUtc: string | null;
}

export function parseGridLoading(bytes: ArrayBuffer | Uint8Array): GridLoadingRows {
  const t = tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const n = t.numRows;
  const ids = t.getChild("asset_id");
  const kind = t.getChild("kind");
  const load = t.getChild("loading_pct");
  const v = t.getChild("v_pu");
  const viol = t.getChild("voltage_violation");
  const rev = t.getChild("reverse_flow"); // absent on servers before reverse-flow support
  const out: GridLoadingRows = {
    assetId: new Array<string>(n),
    kind: new Array<string>(n),
    loadingPct: new Float32Array(n),
    vPu: new Float32Array(n),
    violation: new Uint8Array(n),
    reverse: new Uint8Array(n),
    loadSource: t.schema.metadata.get("load_source") ?? "unknown",
    hourUtc: null,
  };
  const hour = t.schema.metadata.get("hour_utc");
  out.hourUtc = hour && hour !== "None" ? hour : null;
  for (let i = 0; i < n; i++) {
    out.assetId[i] = String(ids?.get(i) ?? "");
    out.kind[i] = String(kind?.get(i) ?? "");
    const l: unknown = load?.get(i);
    out.loadingPct[i] = typeof l === "number" ? l : Number.NaN;
    const vv: unknown = v?.get(i);
    out.vPu[i] = typeof vv === "number" ? vv : Number.NaN;
    out.violation[i] = viol?.get(i) === true ? 1 : 0;
    out.reverse[i] = rev?.get(i) === true ? 1 : 0;
  }
  return out;
}

export interface LoadingOverlay {
  /** per map row: segment loading from the flow; NaN where the flow has none */
  loadingPct: Float32Array;
  /** per map row: 1 where the flow puts the row's bus outside the voltage band */
  voltage: Uint8Array;
  /** per map row: 1 on segments carrying power back towards the substation */
  reverse: Uint8Array;
  /** how many segments carry reverse flow */
  reverseCount: number;
}

/** Map the flow's rows onto map rows by id (segments → loading, transformers → voltage violation). */
export function loadingOverlay(count: number, byId: Map<string, number>, rows: GridLoadingRows): LoadingOverlay {
  const loadingPct = new Float32Array(count).fill(Number.NaN);
  const voltage = new Uint8Array(count);
  const reverse = new Uint8Array(count);
  let reverseCount = 0;
  for (let k = 0; k < rows.assetId.length; k++) {
    const kind = rows.kind[k];
    if (kind !== "line_segment" && kind !== "transformer") continue;
    const r = byId.get(rows.assetId[k]);
    if (r === undefined) continue;
    if (kind === "line_segment") {
      loadingPct[r] = rows.loadingPct[k];
      reverse[r] = rows.reverse[k];
      reverseCount += rows.reverse[k];
    } else voltage[r] = rows.violation[k];
  }
  return { loadingPct, voltage, reverse, reverseCount };
}

/** Transformer rows with at least one meter in AMI voltage violation (ids from `/api/grid/state`). */
export function voltageFromMeters(count: number, meters: MeterData | null, meterIds: ReadonlySet<string>): Uint8Array | null {
  if (!meters || meterIds.size === 0) return null;
  const out = new Uint8Array(count);
  meters.ids.forEach((id, j) => {
    const row = meters.transformerRows[j];
    if (row >= 0 && row < count && meterIds.has(id)) out[row] = 1;
  });
  return out;
}

/** Live loading per row: grid state first (AMI transformer loading), then the flow's segment loading. */
export function mergeLoading(live: Float32Array | null, flow: Float32Array | null): Float32Array | null {
  if (!flow) return live;
  if (!live) return flow;
  const out = live.slice();
  for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i])) out[i] = flow[i];
  return out;
}

/** Either mask (1 = violation); null when neither exists. */
export function mergeVoltage(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (!a) return b;
  if (!b) return a;
  const out = a.slice();
  for (let i = 0; i < out.length; i++) out[i] = out[i] | b[i];
  return out;
}

/** One line for the legend: where the line colours come from now (never a raw server error). */
export function loadingSourceNote(rows: GridLoadingRows | null, error: string | null): string {
  if (rows) {
    const when = rows.loadSource === "ami" && rows.hourUtc ? `AMI demand, hour ${rows.hourUtc.slice(0, 16).replace("T", " ")} UTC` : "design-peak demand";
    let reverse = 0;
    for (let k = 0; k < rows.reverse.length; k++) reverse += rows.reverse[k];
    const rev = reverse > 0 ? ` ${reverse.toLocaleString("en-US")} ${reverse === 1 ? "segment carries" : "segments carry"} reverse flow (PV export), drawn in white.` : "";
    return `lines: per-segment loading from a whole-grid power flow at ${when}; transformers: AMI loading; voltage: bus outside 0.95–1.05 pu or meters' AMI voltage status.${rev}`;
  }
  const why = error === "missing" ? "this server has no per-segment power flow" : error ? "the per-segment power flow is unavailable right now" : "the per-segment power flow is still loading";
  return `lines: their feeder's loading (design-peak load flow × AMI demand / design peak) — ${why}; transformers: AMI loading.`;
}
