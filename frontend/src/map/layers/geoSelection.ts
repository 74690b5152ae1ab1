/** The map selection being drawn or answered: the lasso ring or the radius circle, and the selected
 * assets as rings. */
import { PathLayer, PolygonLayer, ScatterplotLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";

type Pt = [number, number];

export function buildSelectionShapeLayers(ring: Pt[] | null, drawing: Pt[], hits: Pt[]): Layer[] {
  const layers: Layer[] = [];
  if (ring && ring.length >= 4) {
    layers.push(
      new PolygonLayer<{ ring: Pt[] }>({
        id: "geo-selection-area",
        data: [{ ring }],
        getPolygon: (d) => d.ring,
        getFillColor: [250, 204, 21, 40],
        getLineColor: [250, 204, 21, 220],
        lineWidthUnits: "pixels",
        getLineWidth: 2,
        pickable: false,
      }),
    );
  }
  if (drawing.length >= 2) {
    layers.push(
      new PathLayer<{ path: Pt[] }>({
        id: "geo-selection-drawing",
        data: [{ path: drawing }],
        getPath: (d) => d.path,
        getColor: [250, 204, 21, 230],
        widthUnits: "pixels",
        getWidth: 2,
        pickable: false,
      }),
    );
  }
  if (hits.length) {
    layers.push(
      new ScatterplotLayer<Pt>({
        id: "geo-selection-hits",
        data: hits,
        getPosition: (p) => p,
        stroked: true,
        filled: false,
        getLineColor: [250, 204, 21, 255],
        lineWidthUnits: "pixels",
        getLineWidth: 1.5,
        radiusUnits: "pixels",
        getRadius: 6,
        pickable: false,
      }),
    );
  }
  return layers;
}
