/**
 * Whether the grid's assets are drawn from vector tiles (street zoom, only the tiles in view) as well
 * as the single Arrow payload. "auto" turns tiles on when the server reports more elements (meters
 * included) than `TILE_MODE_ABOVE`, the size past which the payload stops being the faster path.
 */
import { getJson } from "../../api/client";
import { useStore } from "../../state/store";
import { assetTilesOn, layersStore, ASSET_TILE_LAYERS } from "./layersState";
import { loadTileJson } from "./layersApi";
import { leaveTileOnly } from "./startMap";

/** ~ the houston preset (≈ 750 K elements with meters) is above, the demo preset below. */
export const TILE_MODE_ABOVE = 300_000;

export async function gridElementCount(): Promise<number | null> {
  try {
    const k = await getJson<{ counts_by_type?: Record<string, number> }>("/api/kpis");
    return Object.values(k.counts_by_type ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return null;
  }
}

export async function ensureAssetTiles(): Promise<void> {
  const s = layersStore.get();
  await Promise.all((s.available ?? []).filter((x) => ASSET_TILE_LAYERS.includes(x.name)).map((l) => loadTileJson(l)));
}

export function AssetTileMode() {
  const s = useStore(layersStore);
  const count = s.elementCount;
  const on = assetTilesOn(s.tileMode, count, TILE_MODE_ABOVE);
  return (
    <div className="small" data-testid="tile-mode">
      <label className="legend-row">
        Grid assets from tiles{" "}
        <select
          aria-label="tile mode"
          data-testid="tile-mode-select"
          value={s.tileMode}
          onChange={(e) => {
            const mode = e.target.value as "auto" | "on" | "off";
            layersStore.update((x) => ({ ...x, tileMode: mode }));
            if (mode === "off") leaveTileOnly();
          }}
        >
          <option value="auto">auto</option>
          <option value="on">on</option>
          <option value="off">off</option>
        </select>
      </label>
      <div className="muted">
        {count === null ? "grid size unknown" : `${count.toLocaleString("en-US")} elements (meters included)`}; auto uses tiles above{" "}
        {TILE_MODE_ABOVE.toLocaleString("en-US")}: {s.tileOnly ? "tiles only (the payload is not loaded)" : on ? "tiles on, over the payload" : "single payload"}
      </div>
    </div>
  );
}
