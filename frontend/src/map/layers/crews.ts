/**
 * Crews as small "C" badges coloured by where they are (map/crews.ts), drawn beside their position
 * (offset up and right, like a pin's label) rather than on it: a crew at its base or at a work site sits
 * exactly where a substation disc or the worked asset is, and a badge on top would hide that asset from
 * clicks (clicking the substation would open the crew's work site instead).
 */
import { TextLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";
import { CREW_COLOURS, type CrewPoint } from "../crews";

export const CREW_LAYER_ID = "crews";
/** Screen offset of a crew badge from its position, in pixels (x right, y down). */
export const CREW_BADGE_OFFSET_PX: [number, number] = [14, -14];

export function buildCrewLayers(points: CrewPoint[], dataKey: string): Layer[] {
  return [
    new TextLayer<CrewPoint>({
      id: CREW_LAYER_ID,
      data: points,
      pickable: true,
      getPosition: (p) => [p.lon, p.lat],
      getPixelOffset: CREW_BADGE_OFFSET_PX,
      getText: () => "C",
      getSize: 12,
      getColor: [15, 23, 42, 255],
      fontWeight: 700,
      characterSet: ["C"],
      background: true,
      backgroundPadding: [5, 3, 5, 3],
      getBackgroundColor: (p) => CREW_COLOURS[p.where],
      getBorderColor: [15, 23, 42, 255],
      getBorderWidth: 2,
      updateTriggers: { getBackgroundColor: dataKey, getPosition: dataKey },
    }),
  ];
}
