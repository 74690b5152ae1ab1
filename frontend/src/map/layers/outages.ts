/**
 * Affected areas of active outages: every de-energized asset as a translucent halo drawn under the
 * equipment (so the assets stay readable); the selected outage's assets drawn brighter. Halos are
 * sized in metres, clamped in pixels, so an area reads as an area at every zoom.
 */
import { ScatterplotLayer } from "@deck.gl/layers";

export interface OutageLayerData {
  positions: Float32Array;
  /** 1 where the point belongs to the selected outage */
  selected: Uint8Array;
}

export interface OutageLayerOpts {
  visible: boolean;
  selectionKey: string;
}

export function outageColours(selected: Uint8Array): Uint8Array {
  const out = new Uint8Array(selected.length * 4);
  for (let j = 0; j < selected.length; j++) {
    out.set(selected[j] ? [244, 63, 94, 150] : [217, 70, 239, 70], 4 * j);
  }
  return out;
}

export function buildOutageLayer(data: OutageLayerData, opts: OutageLayerOpts): ScatterplotLayer {
  return new ScatterplotLayer({
    id: "outage-areas",
    data: {
      length: data.selected.length,
      attributes: {
        getPosition: { value: data.positions, size: 2 },
        getFillColor: { value: outageColours(data.selected), size: 4, normalized: true },
      },
    },
    visible: opts.visible,
    pickable: false,
    radiusUnits: "meters",
    getRadius: 45,
    radiusMinPixels: 4,
    radiusMaxPixels: 14,
    updateTriggers: { getFillColor: opts.selectionKey },
  });
}
