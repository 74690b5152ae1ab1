/** Closest zoom: every meter (from `/api/map/meters`), loaded only once the operator zooms that far. */
import { ScatterplotLayer } from "@deck.gl/layers";

export interface MeterLayerData {
  positions: Float32Array;
  /** RGBA per meter */
  colours: Uint8Array;
}

export interface MeterLayerOpts {
  visible: boolean;
  colourKey: string;
}

export function buildMeterLayer(data: MeterLayerData, opts: MeterLayerOpts): ScatterplotLayer {
  return new ScatterplotLayer({
    id: "meters",
    data: {
      length: data.positions.length / 2,
      attributes: {
        getPosition: { value: data.positions, size: 2 },
        getFillColor: { value: data.colours, size: 4, normalized: true },
      },
    },
    visible: opts.visible,
    pickable: true,
    radiusUnits: "pixels",
    getRadius: 2.5,
    updateTriggers: { getFillColor: opts.colourKey },
  });
}
