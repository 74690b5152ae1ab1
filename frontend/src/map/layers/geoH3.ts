/** The H3 heat layer: one hexagon per cell, coloured on a square-root ramp of its value. */
import { H3HexagonLayer } from "@deck.gl/geo-layers";
import type { Layer } from "@deck.gl/core";
import { heatT, rampColour } from "../../features/layers/scales";
import type { H3Cell } from "../../features/layers/layersState";

export function buildH3Layer(cells: H3Cell[], max: number, key: string): Layer {
  return new H3HexagonLayer<H3Cell>({
    id: "geo-h3",
    data: cells,
    getHexagon: (c) => c.cell,
    getFillColor: (c) => rampColour(heatT(c.value, max), 150),
    extruded: false,
    stroked: true,
    getLineColor: [15, 23, 42, 120],
    lineWidthMinPixels: 0.5,
    pickable: true,
    highPrecision: false,
    updateTriggers: { getFillColor: key },
  }) as unknown as Layer;
}
