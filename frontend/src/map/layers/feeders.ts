/**
 * District zoom and closer: line-segment geometry coloured by loading / live status. Drawn as
 * independent two-point segments with a LineLayer (see geometry.segmentSet): under software WebGL a
 * PathLayer's joints and caps cost several times the vertices for the same picture at these widths.
 */
import { LineLayer } from "@deck.gl/layers";
import type { SegmentSet } from "../geometry";

export interface FeederLayerData {
  segments: SegmentSet;
  /** RGBA per segment (see perSegmentColours) */
  colours: Uint8Array;
}

export interface FeederLayerOpts {
  visible: boolean;
  colourKey: string;
  /** wider lines when closer in */
  widthPx: number;
}

export function buildFeederLayer(data: FeederLayerData, opts: FeederLayerOpts): LineLayer {
  return new LineLayer({
    id: "feeder-lines",
    data: {
      length: data.segments.segPath.length,
      attributes: {
        getSourcePosition: { value: data.segments.sources, size: 2 },
        getTargetPosition: { value: data.segments.targets, size: 2 },
        getColor: { value: data.colours, size: 4, normalized: true },
      },
    },
    visible: opts.visible,
    pickable: true,
    widthUnits: "pixels",
    getWidth: opts.widthPx,
    updateTriggers: { getColor: opts.colourKey, getWidth: opts.widthPx },
  });
}
