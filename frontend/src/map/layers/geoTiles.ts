/**
 * Geo layers from the server's vector tiles (`/api/tiles/{layer}/{z}/{x}/{y}.mvt`): vegetation risk
 * (spans coloured by months to encroachment), canopy, flood zones, water, buildings, and the grid's own
 * asset layers when the map browses by tiles. The style follows the layer's name; the tiles carry the
 * authorisation header the rest of the API uses.
 */
import { MVTLayer } from "@deck.gl/geo-layers";
import { MVTLoader } from "@loaders.gl/mvt";
import type { Layer } from "@deck.gl/core";
import { encroachmentColour, NO_DATA, type Rgba } from "../../features/layers/scales";

export interface GeoTileStyle {
  fill: Rgba | ((p: Record<string, unknown>) => Rgba);
  line: Rgba | ((p: Record<string, unknown>) => Rgba);
  lineWidthPx: number;
  pointRadiusPx: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Flood zones: the 1 % annual chance area (FEMA A/AE/V) stronger than the 0.2 % one (shaded X). */
function floodFill(p: Record<string, unknown>): Rgba {
  const z = String(p.zone ?? p.flood_zone ?? p.fld_zone ?? p.annual_chance ?? "");
  const minor = /0\.2|500|shaded|x/i.test(z) && !/^(a|ae|ao|ah|v|ve)$/i.test(z);
  return minor ? [56, 189, 248, 50] : [37, 99, 235, 90];
}

/** The grid's own layers when drawn from tiles (tile mode): live status is not in a tile, so one
 * neutral colour per kind; the status colours stay with the payload's layers. */
const ASSET_STYLES: Record<string, [Rgba, number]> = {
  substations: [[34, 197, 94, 230], 7],
  segments: [[148, 163, 184, 220], 2],
  devices: [[250, 204, 21, 230], 4],
  transformers: [[203, 213, 225, 230], 3.5],
  poles: [[100, 116, 139, 200], 2],
  meters: [[56, 189, 248, 200], 2],
};

export function geoStyle(name: string, months?: Map<string, number | null> | null): GeoTileStyle {
  const asset = ASSET_STYLES[name];
  if (asset) return { fill: asset[0], line: name === "segments" ? asset[0] : [15, 23, 42, 200], lineWidthPx: name === "segments" ? asset[1] : 1, pointRadiusPx: asset[1] };
  if (/veg/i.test(name) || months) {
    const colour = (p: Record<string, unknown>): Rgba => {
      const own = p.months_to_encroachment;
      if (own !== undefined) return encroachmentColour(num(own));
      const m = months?.get(String(p.id ?? p.segment_id ?? ""));
      return encroachmentColour(m ?? null);
    };
    return { fill: colour, line: colour, lineWidthPx: 3, pointRadiusPx: 3 };
  }
  if (/canopy|tree/i.test(name)) {
    // canopy cover share of the cell (0-1) as opacity; unknown cover: the "no data" grey
    const fill = (p: Record<string, unknown>): Rgba => {
      const d = num(p.density);
      return d === null ? NO_DATA : [22, 163, 74, Math.round(20 + 160 * Math.min(1, Math.max(0, d)))];
    };
    return { fill, line: [22, 163, 74, 0], lineWidthPx: 0, pointRadiusPx: 3 };
  }
  if (/flood/i.test(name)) return { fill: floodFill, line: [59, 130, 246, 160], lineWidthPx: 1, pointRadiusPx: 3 };
  if (/water|hydro|bayou|river|lake/i.test(name)) return { fill: [14, 116, 144, 150], line: [56, 189, 248, 200], lineWidthPx: 2, pointRadiusPx: 3 };
  if (/build|footprint/i.test(name)) return { fill: [148, 163, 184, 110], line: [203, 213, 225, 160], lineWidthPx: 1, pointRadiusPx: 2 };
  return { fill: [167, 139, 250, 90], line: [196, 181, 253, 180], lineWidthPx: 1.5, pointRadiusPx: 3 };
}

export interface GeoTileOpts {
  /** layer id suffix: the server's layer name */
  name: string;
  urls: string[];
  minZoom: number;
  token: string | null;
  style: GeoTileStyle;
  /** changes when a value the style reads changes (e.g. the vegetation figures arrived) */
  styleKey: string;
  /** asset layers: a click opens the feature's asset (its `id` property) */
  onPickId?: (id: string) => void;
}

type Feature = { properties: Record<string, unknown> };
const accessor = (c: Rgba | ((p: Record<string, unknown>) => Rgba)) => (typeof c === "function" ? (f: Feature) => c(f.properties ?? {}) : c);

/** Tiles are asked from `minZoom` (the server answers empty tiles below a layer's minimum zoom) up to
 * z16, over-zoomed beyond. */
export function buildGeoTileLayer(o: GeoTileOpts): Layer {
  return new MVTLayer({
    id: `geo-${o.name}`,
    data: o.urls,
    minZoom: Math.max(0, Math.min(o.minZoom, 16)),
    maxZoom: 16,
    binary: false,
    // Parse on the main thread: loaders.gl's worker would be fetched from a CDN (unpkg), and this map
    // sends nothing off the host. Our tiles are small (zoom rules server-side), so parsing is cheap.
    loaders: [MVTLoader],
    loadOptions: { worker: false, ...(o.token ? { fetch: { headers: { Authorization: `Bearer ${o.token}` } } } : {}) },
    pickable: !!o.onPickId,
    onClick: o.onPickId
      ? (info: { object?: Feature | null }) => {
          const id = info.object?.properties?.id;
          if (typeof id === "string") o.onPickId?.(id);
          return typeof id === "string";
        }
      : undefined,
    filled: true,
    stroked: true,
    getFillColor: accessor(o.style.fill),
    getLineColor: accessor(o.style.line),
    getPointRadius: o.style.pointRadiusPx,
    pointRadiusUnits: "pixels",
    lineWidthUnits: "pixels",
    getLineWidth: o.style.lineWidthPx,
    updateTriggers: { getFillColor: o.styleKey, getLineColor: o.styleKey },
  }) as unknown as Layer;
}
