/** Metro zoom: one disc per substation, area ∝ customers served, colour = worst status of its assets. */
import { ScatterplotLayer } from "@deck.gl/layers";
import type { PointSet } from "../geometry";

export interface SubstationLayerData {
  points: PointSet;
  /** RGBA per substation row (worst status of its assets) */
  colours: Uint8Array;
  /** radius in pixels per substation row */
  radiiPx: Float32Array;
}

export interface SubstationLayerOpts {
  visible: boolean;
  /** changes whenever the colours change (status or palette), so deck.gl re-uploads them */
  colourKey: string;
  /** rows of the payload currently selected, for the outline */
  selectedRow: number;
}

export function radiusForCustomers(customers: number): number {
  // sqrt so that the disc *area* is proportional to customers; clamp to stay legible.
  const r = 3 + Math.sqrt(Math.max(0, customers)) * 0.2;
  return Math.min(30, Math.max(4, r));
}

export function buildSubstationLayer(data: SubstationLayerData, opts: SubstationLayerOpts): ScatterplotLayer {
  const n = data.points.rows.length;
  const lineWidths = new Float32Array(n);
  for (let j = 0; j < n; j++) lineWidths[j] = data.points.rows[j] === opts.selectedRow ? 3 : 1;
  return new ScatterplotLayer({
    id: "substation-aggregates",
    data: {
      length: n,
      attributes: {
        getPosition: { value: data.points.positions, size: 2 },
        getFillColor: { value: data.colours, size: 4, normalized: true },
        getRadius: { value: data.radiiPx, size: 1 },
        getLineWidth: { value: lineWidths, size: 1 },
      },
    },
    visible: opts.visible,
    pickable: true,
    stroked: true,
    filled: true,
    radiusUnits: "pixels",
    lineWidthUnits: "pixels",
    getLineColor: [255, 255, 255, 220],
    opacity: 0.9,
    updateTriggers: { getFillColor: opts.colourKey, getLineWidth: opts.selectedRow },
  });
}
