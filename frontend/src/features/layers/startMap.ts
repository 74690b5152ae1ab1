/**
 * How the map starts: the single Arrow payload (every asset in the browser, fastest for a demo-sized
 * grid), or tiles only for a grid too large for it (the houston preset): the asset layers come from
 * `/api/tiles/*` for the view alone. Decided by the element count the server reports (`/api/kpis`),
 * or forced with `?tiles=on|off` in the page address (how the browser test runs tile-only on `tiny`).
 */
import { getJson } from "../../api/client";
import type { MapProbe } from "../../map/MapView";
import { gridElementCount, TILE_MODE_ABOVE } from "./AssetTileMode";
import { assetTilesOn, layersStore, type LayersState } from "./layersState";
import { loadTileStatus } from "./tileStatus";

let payloadLoader: (() => Promise<void>) | null = null;

/** `?tiles=on|off|auto` -> the tile mode; anything else: auto. Pure. */
export function tileModeFromSearch(search: string): LayersState["tileMode"] {
  const v = new URLSearchParams(search).get("tiles");
  return v === "on" || v === "off" ? v : "auto";
}

async function frameFromTiles(): Promise<void> {
  const map = (window as unknown as { __fluxops?: MapProbe }).__fluxops?.map;
  try {
    const doc = await getJson<{ bounds?: [number, number, number, number] }>("/api/tiles/substations.json");
    if (map && doc.bounds) map.fitBounds([doc.bounds[0], doc.bounds[1], doc.bounds[2], doc.bounds[3]], { padding: 40, animate: false });
  } catch {
    // no bounds: the map stays on its default view
  }
}

/** Start the map: `loadPayload` for a grid the payload suits, tiles only otherwise. */
export async function startMap(loadPayload: () => Promise<void>): Promise<void> {
  payloadLoader = loadPayload;
  const mode = tileModeFromSearch(window.location.search);
  const n = await gridElementCount();
  layersStore.update((s) => ({ ...s, tileMode: mode, elementCount: n }));
  if (!assetTilesOn(mode, n, TILE_MODE_ABOVE)) return loadPayload();
  layersStore.update((s) => ({ ...s, tileOnly: true }));
  void loadTileStatus(); // the live colours of the asset tiles (the payload's state is not loaded)
  await frameFromTiles();
}

/** Leaving tile-only mode ("off" in the control): load the payload after all. */
export function leaveTileOnly(): void {
  if (!layersStore.get().tileOnly || !payloadLoader) return;
  layersStore.update((s) => ({ ...s, tileOnly: false }));
  void payloadLoader();
}
