/**
 * Live status for the grid drawn from tiles (tile-only mode: the houston preset, or `?tiles=on`). A tile
 * carries the grid, not its state (so it stays cacheable under its grid ETag); the assets whose live
 * status is not normal come from `GET /api/tiles/status` (a few hundred to a few thousand ids, 304 while
 * the state version is unchanged: the browser revalidates the `no-cache` answer by its ETag) and colour
 * the tile features by id (`map/layers/geoStatus.ts`). Fetched when tile-only mode starts and on every
 * grid-state nudge from the stream (`loadGridState` hands over when there is no payload).
 */
import { ApiError, getJson } from "../../api/client";
import { createStore } from "../../state/store";

export type TileStatus = "warning" | "critical" | "out";

export interface TileStatusState {
  /** the server's state version the map shows; -1 before the first answer */
  version: number;
  epoch: string | null;
  /** asset id -> status, only the assets that are not normal */
  byId: Map<string, TileStatus>;
  error: string | null;
}

export const initialTileStatus: TileStatusState = { version: -1, epoch: null, byId: new Map(), error: null };
export const tileStatusStore = createStore<TileStatusState>(initialTileStatus);

export interface TileStatusAnswer {
  epoch: string;
  version: number;
  codes: string[];
  asset_id: string[];
  status: number[];
}

/** Pure: the answer as the slice (the same slice back when it is the version already shown). */
export function applyTileStatus(s: TileStatusState, a: TileStatusAnswer): TileStatusState {
  if (a.version === s.version && a.epoch === s.epoch && s.error === null) return s;
  const byId = new Map<string, TileStatus>();
  for (let i = 0; i < a.asset_id.length; i++) {
    const code = a.codes[a.status[i]];
    if (code === "warning" || code === "critical" || code === "out") byId.set(a.asset_id[i], code);
  }
  return { version: a.version, epoch: a.epoch, byId, error: null };
}

let inFlight: Promise<void> | null = null;
let again = false;

/** Fetch the status list (one request at a time; a nudge during one fetches once more after it). */
export function loadTileStatus(): Promise<void> {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    try {
      do {
        again = false;
        const a = await getJson<TileStatusAnswer>("/api/tiles/status");
        tileStatusStore.update((s) => applyTileStatus(s, a));
      } while (again);
    } catch (e) {
      const missing = e instanceof ApiError && e.missing;
      tileStatusStore.update((s) => ({ ...s, error: missing ? "missing" : e instanceof Error ? e.message : String(e) }));
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}
