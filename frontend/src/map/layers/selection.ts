/** A ring around the selected asset (inspector open / search result / located from a table). */
import { ScatterplotLayer } from "@deck.gl/layers";

export function buildSelectionLayer(position: [number, number] | null): ScatterplotLayer<[number, number]> {
  return new ScatterplotLayer<[number, number]>({
    id: "selection-ring",
    data: position ? [position] : [],
    getPosition: (d) => d,
    radiusUnits: "pixels",
    getRadius: 14,
    filled: false,
    stroked: true,
    getLineColor: [14, 165, 233, 255],
    lineWidthUnits: "pixels",
    getLineWidth: 3,
    updateTriggers: { getPosition: position ? `${position[0]},${position[1]}` : "none" },
  });
}
