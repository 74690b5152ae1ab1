/**
 * Live status per map row, as one Uint8Array of status codes, from the payload's loading and the
 * live overlays (assets out from outages, voltage violations from AMI). Pure: new arrays out.
 */
import type { MapAssets } from "./assets";
import { PALETTES, SEVERITY, STATUS, statusOf, type MapPalette, type StatusCode } from "./palette";

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
export function colourRows(status: Uint8Array, rows: Int32Array, palette: MapPalette): Uint8Array {
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

/**
 * The status a substation disc is filled with: out only when the substation itself is (all its feeders
 * are, in the live state), else the loading class of its most loaded feeder that is in service. Outages
 * below it are not folded in (they are drawn as a share of its customers, `substationOutages.ts`).
 */
export function substationDiscStatus(a: MapAssets, status: Uint8Array, discRows: Int32Array): Uint8Array {
  const feederType = a.typeNames.indexOf("feeder");
  const best = new Int8Array(a.substationIds.length).fill(-1);
  const code = new Uint8Array(a.substationIds.length);
  for (let i = 0; i < a.count; i++) {
    if (a.typeCode[i] !== feederType) continue;
    const s = a.substationCode[i];
    const st = status[i] as StatusCode;
    if (s < 0 || st === STATUS.out) continue;
    if (SEVERITY[st] > best[s]) {
      best[s] = SEVERITY[st];
      code[s] = st;
    }
  }
  const out = new Uint8Array(discRows.length);
  discRows.forEach((r, j) => {
    const s = a.substationCode[r];
    out[j] = status[r] === STATUS.out || s < 0 || best[s] < 0 ? status[r] : code[s];
  });
  return out;
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
