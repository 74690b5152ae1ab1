/**
 * The default basemap, made from our own data so the map works with no internet and sends nothing
 * to a CDN: a dark background, the service territory (hull of every asset), substation service
 * areas and feeder corridors (hull per feeder). No glyphs or sprites, so no font requests either:
 * street and neighbourhood names are drawn by deck.gl (`layers/geoLabels.ts`). An operator's own
 * basemap can replace it: a style URL, or a PMTiles file opened from disk (`pmtilesStyle`).
 */
import type { StyleSpecification } from "maplibre-gl";
import * as maplibregl from "maplibre-gl";
import { FileSource, PMTiles, Protocol, TileType } from "pmtiles";
import type { MapAssets } from "./assets";

type Pt = [number, number];

/** Convex hull (Andrew's monotone chain), closed ring, counter-clockwise. Pure. */
export function convexHull(points: Pt[]): Pt[] {
  const pts = points
    .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))
    .slice()
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return [];
  const cross = (o: Pt, a: Pt, b: Pt) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Pt[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Pt[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = lower.slice(0, -1).concat(upper.slice(0, -1));
  if (hull.length < 3) return [];
  return [...hull, hull[0]];
}

/** Push each hull vertex away from the centroid by `pad` degrees so points on the edge sit inside. */
export function padRing(ring: Pt[], pad: number): Pt[] {
  if (ring.length === 0) return ring;
  const n = ring.length - 1;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    cx += ring[i][0];
    cy += ring[i][1];
  }
  cx /= n;
  cy /= n;
  return ring.map(([x, y]) => {
    const dx = x - cx;
    const dy = y - cy;
    const d = Math.hypot(dx, dy) || 1;
    return [x + (dx / d) * pad, y + (dy / d) * pad] as Pt;
  });
}

function hullsBy(a: MapAssets, code: Int32Array, labels: string[], pad: number): GeoJSON.FeatureCollection {
  const groups: Pt[][] = labels.map(() => []);
  for (let i = 0; i < a.count; i++) {
    const g = code[i];
    if (g >= 0 && !Number.isNaN(a.lon[i])) groups[g].push([a.lon[i], a.lat[i]]);
  }
  const features: GeoJSON.Feature[] = [];
  groups.forEach((pts, g) => {
    const ring = padRing(convexHull(pts), pad);
    if (ring.length >= 4) {
      features.push({ type: "Feature", properties: { id: labels[g] }, geometry: { type: "Polygon", coordinates: [ring] } });
    }
  });
  return { type: "FeatureCollection", features };
}

export function territory(a: MapAssets): GeoJSON.FeatureCollection {
  const pts: Pt[] = [];
  for (let i = 0; i < a.count; i++) if (!Number.isNaN(a.lon[i])) pts.push([a.lon[i], a.lat[i]]);
  const ring = padRing(convexHull(pts), 0.02);
  return {
    type: "FeatureCollection",
    features: ring.length >= 4 ? [{ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring] } }] : [],
  };
}

export function ownStyle(a: MapAssets): StyleSpecification {
  return {
    version: 8,
    name: "fluxops-dark",
    sources: {
      territory: { type: "geojson", data: territory(a) },
      substationAreas: { type: "geojson", data: hullsBy(a, a.substationCode, a.substationIds, 0.004) },
      feederCorridors: { type: "geojson", data: hullsBy(a, a.feederCode, a.feederIds, 0.001) },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#0b1120" } },
      { id: "territory-fill", type: "fill", source: "territory", paint: { "fill-color": "#111a2e" } },
      { id: "territory-edge", type: "line", source: "territory", paint: { "line-color": "#334155", "line-width": 1.5 } },
      { id: "substation-areas", type: "fill", source: "substationAreas", paint: { "fill-color": "#16213a", "fill-opacity": 0.8 } },
      { id: "substation-edges", type: "line", source: "substationAreas", paint: { "line-color": "#1e293b", "line-width": 1 } },
      {
        id: "feeder-corridors",
        type: "fill",
        source: "feederCorridors",
        minzoom: 10,
        paint: { "fill-color": "#1c2a45", "fill-opacity": 0.6, "fill-outline-color": "#24324f" },
      },
    ],
  };
}

/** A trivial style used until the payload arrives (no sources, so nothing is fetched). */
export const EMPTY_STYLE: StyleSpecification = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#0b1120" } }],
};

let protocol: Protocol | null = null;

/** The pmtiles:// protocol, registered with MapLibre once. */
function pmtilesProtocol(): Protocol {
  if (!protocol) {
    protocol = new Protocol();
    maplibregl.addProtocol("pmtiles", protocol.tile);
  }
  return protocol;
}

const VECTOR_COLOURS = ["#334155", "#1e3a5f", "#3f3f46", "#14532d", "#4c1d95", "#713f12"];

/**
 * A basemap style for a PMTiles archive read from a local file (nothing is fetched): raster archives
 * as one raster layer; vector archives with every vector layer the metadata lists drawn as faint
 * fills and lines (no labels: that needs glyphs, which an offline map does not have).
 */
export async function pmtilesStyle(file: File): Promise<StyleSpecification> {
  const archive = new PMTiles(new FileSource(file));
  pmtilesProtocol().add(archive);
  const header = await archive.getHeader();
  const url = `pmtiles://${file.name}`;
  const base: StyleSpecification["layers"] = [{ id: "background", type: "background", paint: { "background-color": "#0b1120" } }];
  const bounds: [number, number, number, number] = [header.minLon, header.minLat, header.maxLon, header.maxLat];
  if (header.tileType !== TileType.Mvt) {
    return {
      version: 8,
      name: file.name,
      sources: { user: { type: "raster", url, tileSize: 256, bounds } },
      layers: [...base, { id: "user-raster", type: "raster", source: "user", paint: { "raster-opacity": 0.8 } }],
    };
  }
  const meta = (await archive.getMetadata()) as { vector_layers?: { id: string }[] } | null;
  const ids = (meta?.vector_layers ?? []).map((l) => l.id);
  const layers: StyleSpecification["layers"] = [...base];
  ids.forEach((id, i) => {
    const colour = VECTOR_COLOURS[i % VECTOR_COLOURS.length];
    layers.push(
      { id: `user-${id}-fill`, type: "fill", source: "user", "source-layer": id, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": colour, "fill-opacity": 0.5 } },
      { id: `user-${id}-line`, type: "line", source: "user", "source-layer": id, filter: ["==", ["geometry-type"], "LineString"], paint: { "line-color": colour, "line-width": 1 } },
    );
  });
  return { version: 8, name: file.name, sources: { user: { type: "vector", url, bounds } }, layers };
}

/** A style object handed to MapLibre as a blob: URL (the ui slice keeps basemaps as URLs). */
export function styleBlobUrl(style: StyleSpecification): string {
  return URL.createObjectURL(new Blob([JSON.stringify(style)], { type: "application/json" }));
}
