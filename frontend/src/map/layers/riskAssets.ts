/**
 * The risk layer: the ranked assets of the served model as dots coloured by probability of failing in
 * the next 12 months and, when the server has computed a consequence, sized by it (square root, so
 * area ∝ consequence); without one every dot has one size. Clicking a dot opens the inspector.
 */
import { ScatterplotLayer } from "@deck.gl/layers";
import type { Layer, PickingInfo } from "@deck.gl/core";
import { riskColour } from "../../features/layers/scales";

export interface RiskLayerData {
  positions: Float32Array;
  probability: Float32Array;
  consequence: Float32Array;
  ids: string[];
}

/** Radius in pixels: 4 without a consequence, else 3..16 by the square root of its share of the maximum. */
export function riskRadii(consequence: Float32Array): Float32Array {
  let max = 0;
  for (const c of consequence) if (Number.isFinite(c) && c > max) max = c;
  const out = new Float32Array(consequence.length);
  for (let i = 0; i < consequence.length; i++) {
    const c = consequence[i];
    out[i] = max > 0 && Number.isFinite(c) ? 3 + 13 * Math.sqrt(Math.max(0, c) / max) : 4;
  }
  return out;
}

export function riskColours(probability: Float32Array): { colours: Uint8Array; top: number } {
  let top = 0;
  for (const p of probability) if (Number.isFinite(p) && p > top) top = p;
  const out = new Uint8Array(probability.length * 4);
  for (let i = 0; i < probability.length; i++) out.set(riskColour(probability[i], top), 4 * i);
  return { colours: out, top };
}

export function buildRiskLayer(d: RiskLayerData, key: string, onPick: (id: string) => void): Layer {
  const { colours } = riskColours(d.probability);
  return new ScatterplotLayer({
    id: "risk-assets",
    data: {
      length: d.ids.length,
      attributes: {
        getPosition: { value: d.positions, size: 2 },
        getFillColor: { value: colours, size: 4, normalized: true },
        getRadius: { value: riskRadii(d.consequence), size: 1 },
      },
    },
    radiusUnits: "pixels",
    stroked: true,
    getLineColor: [15, 23, 42, 220],
    lineWidthUnits: "pixels",
    getLineWidth: 1,
    pickable: true,
    onClick: (info: PickingInfo) => {
      if (info.index >= 0 && info.index < d.ids.length) onPick(d.ids[info.index]);
      return true;
    },
    updateTriggers: { getFillColor: key, getRadius: key },
  });
}
