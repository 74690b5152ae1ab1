/** From a deck.gl pick (layer id + index into that layer's binary data) back to what was picked. */
import type { MapGeometry, MeterData } from "../state/mapData";

export type Picked =
  | { kind: "asset"; row: number }
  | { kind: "meter"; id: string; index: number }
  | { kind: "cascade"; index: number }
  | { kind: "crew"; index: number }
  | null;

const LAYER_SETS: Record<string, "substations" | "transformers" | "poles" | "switches" | "protective"> = {
  "substation-aggregates": "substations",
  transformers: "transformers",
  poles: "poles",
  switches: "switches",
  "protective-devices": "protective",
};

export function resolvePick(layerId: string | undefined, index: number, g: MapGeometry, meters: MeterData | null): Picked {
  if (!layerId || index < 0) return null;
  if (layerId === "feeder-lines") {
    // a segment of a path: back to the path, then to its payload row
    const j = index < g.segments.segPath.length ? g.segments.segPath[index] : -1;
    return j >= 0 ? { kind: "asset", row: g.lines.rows[j] } : null;
  }
  const set = LAYER_SETS[layerId];
  if (set) {
    const rows = g[set].rows;
    return index < rows.length ? { kind: "asset", row: rows[index] } : null;
  }
  // a view-window subset maps back to the full meter arrays (tooltips read those)
  if (layerId === "meters" && meters && index < meters.ids.length) return { kind: "meter", id: meters.ids[index], index: meters.source?.[index] ?? index };
  if (layerId === "cascade-waves") return { kind: "cascade", index };
  if (layerId === "crews") return { kind: "crew", index };
  return null;
}
