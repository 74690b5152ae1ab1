/**
 * Cascade waves on the map: each failed element coloured by its wave, revealed wave by wave as the
 * animation advances; arrows (lines) from the element that caused each failure; patient zero ringed.
 */
import { LineLayer, ScatterplotLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";
import { waveColour } from "../palette";

export interface CascadeLayerData {
  /** lon,lat per failed element */
  positions: Float32Array;
  /** wave index per failed element (0 = patient zero) */
  waves: Int32Array;
  /** lon,lat of the cause (parent) per element; NaN where none */
  causePositions: Float32Array;
  patientZero: [number, number] | null;
}

export interface CascadeLayerOpts {
  visible: boolean;
  /** waves up to and including this one are shown */
  currentWave: number;
  /** a single wave to isolate, or -1 */
  focusWave: number;
}

export function cascadeColours(waves: Int32Array, currentWave: number, focusWave: number): Uint8Array {
  const out = new Uint8Array(waves.length * 4);
  for (let j = 0; j < waves.length; j++) {
    const w = waves[j];
    const c = waveColour(w);
    const shown = w <= currentWave && (focusWave < 0 || focusWave === w);
    out.set([c[0], c[1], c[2], shown ? 240 : 0], 4 * j);
  }
  return out;
}

export function buildCascadeLayers(data: CascadeLayerData, opts: CascadeLayerOpts): Layer[] {
  const colours = cascadeColours(data.waves, opts.currentWave, opts.focusWave);
  const key = `${opts.currentWave}:${opts.focusWave}`;
  const layers: Layer[] = [
    new LineLayer({
      id: "cascade-causes",
      data: {
        length: data.waves.length,
        attributes: {
          getSourcePosition: { value: data.causePositions, size: 2 },
          getTargetPosition: { value: data.positions, size: 2 },
          getColor: { value: colours, size: 4, normalized: true },
        },
      },
      visible: opts.visible,
      widthUnits: "pixels",
      getWidth: 2,
      updateTriggers: { getColor: key },
    }),
    new ScatterplotLayer({
      id: "cascade-waves",
      data: {
        length: data.waves.length,
        attributes: {
          getPosition: { value: data.positions, size: 2 },
          getFillColor: { value: colours, size: 4, normalized: true },
        },
      },
      visible: opts.visible,
      pickable: true,
      radiusUnits: "pixels",
      getRadius: 5,
      stroked: true,
      getLineColor: [15, 23, 42, 255],
      lineWidthUnits: "pixels",
      getLineWidth: 1,
      updateTriggers: { getFillColor: key },
    }),
  ];
  if (data.patientZero) {
    layers.push(
      new ScatterplotLayer({
        id: "cascade-patient-zero",
        data: [data.patientZero],
        visible: opts.visible,
        getPosition: (d: [number, number]) => d,
        radiusUnits: "pixels",
        getRadius: 16,
        filled: false,
        stroked: true,
        getLineColor: [239, 68, 68, 255],
        lineWidthUnits: "pixels",
        getLineWidth: 3,
      }),
    );
  }
  return layers;
}
