/** District zoom and closer: line-segment geometry coloured by loading / live status. */
import { PathLayer } from "@deck.gl/layers";
import type { PathSet } from "../geometry";

export interface FeederLayerData {
  paths: PathSet;
  /** RGBA per vertex (see perVertexColours) */
  vertexColours: Uint8Array;
}

export interface FeederLayerOpts {
  visible: boolean;
  colourKey: string;
  /** wider lines when closer in */
  widthPx: number;
}

export function buildFeederLayer(data: FeederLayerData, opts: FeederLayerOpts): PathLayer {
  return new PathLayer({
    id: "feeder-lines",
    data: {
      length: data.paths.rows.length,
      startIndices: data.paths.startIndices,
      attributes: {
        getPath: { value: data.paths.coords, size: 2 },
        getColor: { value: data.vertexColours, size: 4, normalized: true },
      },
    },
    _pathType: "open",
    visible: opts.visible,
    pickable: true,
    widthUnits: "pixels",
    getWidth: opts.widthPx,
    widthMinPixels: 1,
    capRounded: true,
    jointRounded: false,
    updateTriggers: { getColor: opts.colourKey, getWidth: opts.widthPx },
  });
}
