/**
 * Live status per map row, as one Uint8Array of status codes, from the payload's loading and the
 * live overlays (assets out from outages, voltage violations from AMI). Pure: new arrays out.
 */
import type { MapAssets } from "./assets";
import { PALETTES, SEVERITY, statusOf, type PaletteName, type StatusCode } from "./palette";

export interface LiveOverlay {
  /** rows de-energized right now (outages), 1 = out; overrides the payload's last known state */
  out: Uint8Array | null;
  /** rows with a voltage violation, 1 = violation */
  voltage: Uint8Array | null;
  /** live loading by row (grid state); NaN = use the payload's value */
  loadingPct: Float32Array | null;
}

export const NO_OVERLAY: LiveOverlay = { out: null, voltage: null, loadingPct: null };

export function computeStatus(a: MapAssets, live: LiveOverlay): Uint8Array {
  const out = new Uint8Array(a.count);
  for (let i = 0; i < a.count; i++) {
    const liveLoad = live.loadingPct ? live.loadingPct[i] : Number.NaN;
    const load = Number.isNaN(liveLoad) ? a.loadingPct[i] : liveLoad;
    const isOut = (live.out ? live.out[i] === 1 : false) || a.deEnergized[i] === 1;
    out[i] = statusOf(load, isOut, live.voltage ? live.voltage[i] === 1 : false);
  }
  return out;
}

/** RGBA per chosen row, for a deck.gl colour binary attribute. */
export function colourRows(status: Uint8Array, rows: Int32Array, palette: PaletteName): Uint8Array {
  const pal = PALETTES[palette];
  const out = new Uint8Array(rows.length * 4);
  for (let j = 0; j < rows.length; j++) {
    const c = pal[status[rows[j]] as StatusCode];
    out.set(c, 4 * j);
  }
  return out;
}

/** Worst status per substation code, over every row of that substation. */
export function worstBySubstation(a: MapAssets, status: Uint8Array): Uint8Array {
  const worst = new Uint8Array(a.substationIds.length);
  const worstSev = new Int8Array(a.substationIds.length).fill(-1);
  for (let i = 0; i < a.count; i++) {
    const s = a.substationCode[i];
    if (s < 0) continue;
    const sev = SEVERITY[status[i] as StatusCode];
    if (sev > worstSev[s]) {
      worstSev[s] = sev;
      worst[s] = status[i];
    }
  }
  return worst;
}

/** Mask (1 = listed) over map rows from a list of ids; unknown ids are ignored. */
export function maskFromIds(count: number, byId: Map<string, number>, ids: Iterable<string>): Uint8Array {
  const m = new Uint8Array(count);
  for (const id of ids) {
    const i = byId.get(id);
    if (i !== undefined) m[i] = 1;
  }
  return m;
}
