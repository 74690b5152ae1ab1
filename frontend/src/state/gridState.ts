/**
 * The live per-asset state from `/api/grid/state` (status normal / warning / critical / out,
 * loading %), laid over the map rows. The first fetch is the full snapshot; stream events then
 * fetch `changed_since=<version>` and apply only the changed rows. Pure updaters: new arrays out.
 * Meters are not map rows: their warning/critical status is the AMI voltage status (ANSI C84.1; the
 * backend's `fluxops.ops.state`), kept as a set of meter ids so the map can mark their transformers.
 */
import { createStore } from "./store";

export interface StateRows {
  asset_id: string[];
  status: string[];
  loading_pct: (number | null)[];
}

export interface GridStateState {
  version: number;
  /** the server's state epoch (process + grid) the version belongs to */
  epoch: string | null;
  /** 1 where the map row is de-energized now */
  out: Uint8Array | null;
  /** live loading % per map row; NaN = unknown */
  loadingPct: Float32Array | null;
  /** rows out, for cheap change detection */
  outCount: number;
  /** ids of non-map assets (meters) whose status is warning/critical: an AMI voltage violation */
  voltageMeters: Set<string>;
  error: string | null;
}

export const initialGridState: GridStateState = {
  version: -1,
  epoch: null,
  out: null,
  loadingPct: null,
  outCount: 0,
  voltageMeters: new Set(),
  error: null,
};

/** Apply a snapshot (full when `full`) or a diff of state rows to the overlay over `count` map rows. */
export function applyStateRows(
  s: GridStateState,
  count: number,
  byId: Map<string, number>,
  rows: StateRows,
  version: number,
  full: boolean,
): GridStateState {
  const out = full || !s.out || s.out.length !== count ? new Uint8Array(count) : s.out.slice();
  const load = full || !s.loadingPct || s.loadingPct.length !== count ? new Float32Array(count).fill(Number.NaN) : s.loadingPct.slice();
  const voltageMeters = full ? new Set<string>() : new Set(s.voltageMeters);
  for (let k = 0; k < rows.asset_id.length; k++) {
    const r = byId.get(rows.asset_id[k]);
    if (r === undefined) {
      // meters: no loading, so warning/critical is their AMI voltage status
      const st = rows.status[k];
      if (st === "warning" || st === "critical") voltageMeters.add(rows.asset_id[k]);
      else voltageMeters.delete(rows.asset_id[k]);
      continue;
    }
    out[r] = rows.status[k] === "out" ? 1 : 0;
    const l = rows.loading_pct[k];
    load[r] = l === null || l === undefined ? Number.NaN : l;
  }
  let outCount = 0;
  for (let i = 0; i < count; i++) outCount += out[i];
  return { version, epoch: s.epoch, out, loadingPct: load, outCount, voltageMeters, error: null };
}

export const gridStateStore = createStore<GridStateState>(initialGridState);

/** The SSE `asset_status` message: the changed assets' status and loading at `version`. */
export interface StateDelta {
  version: number;
  epoch?: string;
  truncated: boolean;
  changes: { asset_id: string; status: string; loading_pct?: number | null }[];
}

/**
 * Pure: the delta as state rows when it applies as is — the same epoch, exactly one version ahead,
 * complete (not truncated) and carrying loading — else null (the caller fetches `changed_since`).
 */
export function deltaRows(s: GridStateState, d: StateDelta): StateRows | null {
  if (d.truncated || s.version < 0 || !s.out || d.version !== s.version + 1) return null;
  if (d.epoch !== undefined && s.epoch !== null && d.epoch !== s.epoch) return null;
  if (!Array.isArray(d.changes) || d.changes.some((c) => !("loading_pct" in c))) return null;
  return {
    asset_id: d.changes.map((c) => c.asset_id),
    status: d.changes.map((c) => c.status),
    loading_pct: d.changes.map((c) => (typeof c.loading_pct === "number" ? c.loading_pct : null)),
  };
}
