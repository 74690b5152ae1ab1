/**
 * Street names and neighbourhood names over the offline basemap, drawn by deck.gl's TextLayer: its
 * glyph atlas is rendered in the browser from a local font, so labels need no glyph server (MapLibre
 * symbol layers would fetch PBF glyphs). Streets from `streetFrom` zoom, neighbourhoods below it.
 */
import { TextLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";
import type { NeighbourhoodLabel, StreetLabel } from "../../features/layers/layersState";

/** Street label angle in degrees (deck.gl: counter-clockwise), from its two ends; kept upright. */
export function streetAngle(s: StreetLabel): number {
  const [[x0, y0], [x1, y1]] = s.path;
  const dx = (x1 - x0) * Math.cos((((y0 + y1) / 2) * Math.PI) / 180);
  const deg = (Math.atan2(y1 - y0, dx) * 180) / Math.PI;
  return deg > 90 ? deg - 180 : deg < -90 ? deg + 180 : deg;
}

export function buildLabelLayers(streets: StreetLabel[], hoods: NeighbourhoodLabel[], zoom: number, streetFrom: number): Layer[] {
  return [
    new TextLayer<NeighbourhoodLabel>({
      id: "basemap-neighbourhoods",
      data: hoods,
      visible: zoom < streetFrom + 1,
      getPosition: (h) => [h.lon, h.lat],
      getText: (h) => h.name.toUpperCase(),
      getSize: 12,
      getColor: [148, 163, 184, 200],
      fontFamily: "system-ui, sans-serif",
      fontWeight: 600,
      characterSet: "auto",
      getPixelOffset: [0, -22],
      outlineWidth: 2,
      outlineColor: [11, 17, 32, 255],
      fontSettings: { sdf: true },
      pickable: false,
    }),
    new TextLayer<StreetLabel>({
      id: "basemap-streets",
      data: streets,
      visible: zoom >= streetFrom,
      getPosition: (s) => [s.lon, s.lat],
      getText: (s) => s.name,
      getAngle: streetAngle,
      getSize: 11,
      getColor: [203, 213, 225, 210],
      fontFamily: "system-ui, sans-serif",
      characterSet: "auto",
      outlineWidth: 2,
      outlineColor: [11, 17, 32, 255],
      fontSettings: { sdf: true },
      pickable: false,
    }),
  ];
}
