/**
 * The live status overlay of the asset tiles: a feature whose id is in the status list
 * (`features/layers/tileStatus.ts`) takes that status's colour from the map palette (out: de-energized,
 * critical: overloaded, warning: high loading; a meter's warning/critical is its AMI voltage status),
 * every other feature keeps its layer's neutral colour. The tiles are not refetched when the state
 * changes: the style's key carries the state version, so deck.gl recomputes the colours of the tiles
 * already loaded.
 */
import { PALETTES, STATUS, type MapPalette, type Rgba, type StatusCode } from "../palette";
import type { GeoTileStyle } from "./geoTiles";
import type { TileStatus } from "../../features/layers/tileStatus";

/** The palette class of a live status on a tile layer (meters: voltage, the AMI status). */
export function statusClass(layer: string, status: TileStatus): StatusCode {
  if (status === "out") return STATUS.out;
  if (layer === "meters") return STATUS.voltage;
  return status === "critical" ? STATUS.overload : STATUS.high;
}

/** Pure: `base` with its colours overridden for the features the status list names. */
export function withLiveStatus(layer: string, base: GeoTileStyle, byId: Map<string, TileStatus>, palette: MapPalette = "default"): GeoTileStyle {
  if (byId.size === 0) return base;
  const pal = PALETTES[palette];
  const over = (c: GeoTileStyle["fill"]) => (p: Record<string, unknown>): Rgba => {
    const st = byId.get(String(p.id ?? ""));
    if (st) return pal[statusClass(layer, st)];
    return typeof c === "function" ? c(p) : c;
  };
  return { ...base, fill: over(base.fill), line: layer === "segments" ? over(base.line) : base.line };
}
