/** Crews as white-ringed squares-ish discs with a "C" glyph, coloured by where they are (map/crews.ts). */
import { ScatterplotLayer, TextLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";
import { CREW_COLOURS, type CrewPoint } from "../crews";

export const CREW_LAYER_ID = "crews";

export function buildCrewLayers(points: CrewPoint[], dataKey: string): Layer[] {
  return [
    new ScatterplotLayer<CrewPoint>({
      id: CREW_LAYER_ID,
      data: points,
      pickable: true,
      radiusUnits: "pixels",
      getRadius: 8,
      getPosition: (p) => [p.lon, p.lat],
      getFillColor: (p) => CREW_COLOURS[p.where],
      stroked: true,
      getLineColor: [15, 23, 42, 255],
      lineWidthUnits: "pixels",
      getLineWidth: 2,
      updateTriggers: { getFillColor: dataKey, getPosition: dataKey },
    }),
    new TextLayer<CrewPoint>({
      id: `${CREW_LAYER_ID}-glyph`,
      data: points,
      getPosition: (p) => [p.lon, p.lat],
      getText: () => "C",
      getSize: 11,
      getColor: [15, 23, 42, 255],
      fontWeight: 700,
      characterSet: ["C"],
      updateTriggers: { getPosition: dataKey },
    }),
  ];
}
