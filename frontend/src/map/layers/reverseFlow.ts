/**
 * Segments carrying power back towards the substation (net PV export downstream, from the whole-grid
 * power flow), drawn as a thin white line over their loading colour, so reverse flow reads as a state
 * of the line and not as an error or a missing figure.
 */
import { LineLayer } from "@deck.gl/layers";
import type { PathSet, SegmentSet } from "../geometry";

export interface ReverseFlowData {
  segments: SegmentSet;
  lines: PathSet;
  /** per map row: 1 = reverse flow */
  reverse: Uint8Array;
}

/** Source/target positions of the segments whose line row carries reverse flow. */
export function reverseSegments(d: ReverseFlowData): { sources: Float32Array; targets: Float32Array } {
  const keep: number[] = [];
  for (let k = 0; k < d.segments.segPath.length; k++) if (d.reverse[d.lines.rows[d.segments.segPath[k]]] === 1) keep.push(k);
  const sources = new Float32Array(keep.length * 2);
  const targets = new Float32Array(keep.length * 2);
  keep.forEach((k, j) => {
    sources.set(d.segments.sources.subarray(2 * k, 2 * k + 2), 2 * j);
    targets.set(d.segments.targets.subarray(2 * k, 2 * k + 2), 2 * j);
  });
  return { sources, targets };
}

export function buildReverseFlowLayer(d: ReverseFlowData, opts: { visible: boolean; key: string }): LineLayer {
  const { sources, targets } = reverseSegments(d);
  return new LineLayer({
    id: "reverse-flow",
    data: {
      length: sources.length / 2,
      attributes: {
        getSourcePosition: { value: sources, size: 2 },
        getTargetPosition: { value: targets, size: 2 },
      },
    },
    visible: opts.visible,
    pickable: false,
    widthUnits: "pixels",
    getWidth: 1,
    getColor: [255, 255, 255, 230],
    updateTriggers: { getSourcePosition: opts.key },
  });
}
