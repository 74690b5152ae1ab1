/**
 * Over each substation disc: an inner disc whose area is the share of its customers out (out colour),
 * and a badge with the number of customers out. Only substations with an active outage are drawn.
 */
import { ScatterplotLayer, TextLayer } from "@deck.gl/layers";
import type { Layer } from "@deck.gl/core";
import type { Rgba } from "../palette";
import { badgeText, outRadiusPx } from "../substationOutages";

export interface SubstationOutageLayerData {
  /** lon,lat per substation disc (same order as the disc layer) */
  positions: Float32Array;
  /** outer disc radius per substation, px */
  radiiPx: Float32Array;
  share: Float32Array;
  customersOut: Float64Array;
}

export interface SubstationOutageLayerOpts {
  visible: boolean;
  /** the palette's "out" colour */
  outColour: Rgba;
  /** changes whenever the outage figures change */
  dataKey: string;
}

interface Badge {
  position: [number, number];
  text: string;
  offset: [number, number];
}

export function buildSubstationOutageLayers(d: SubstationOutageLayerData, opts: SubstationOutageLayerOpts): Layer[] {
  const picked: number[] = [];
  for (let j = 0; j < d.share.length; j++) if (d.customersOut[j] > 0) picked.push(j);
  const positions = new Float32Array(picked.length * 2);
  const radii = new Float32Array(picked.length);
  const badges: Badge[] = [];
  picked.forEach((j, k) => {
    positions[2 * k] = d.positions[2 * j];
    positions[2 * k + 1] = d.positions[2 * j + 1];
    radii[k] = outRadiusPx(d.radiiPx[j], d.share[j]);
    badges.push({
      position: [d.positions[2 * j], d.positions[2 * j + 1]],
      text: badgeText(d.customersOut[j]),
      offset: [d.radiiPx[j] * 0.75 + 2, -d.radiiPx[j] * 0.75 - 2],
    });
  });
  return [
    new ScatterplotLayer({
      id: "substation-outage-share",
      data: {
        length: picked.length,
        attributes: {
          getPosition: { value: positions, size: 2 },
          getRadius: { value: radii, size: 1 },
        },
      },
      visible: opts.visible,
      pickable: false,
      radiusUnits: "pixels",
      filled: true,
      stroked: false,
      getFillColor: opts.outColour,
      updateTriggers: { getFillColor: opts.outColour.join(",") },
    }),
    new TextLayer<Badge>({
      id: "substation-outage-badges",
      data: badges,
      visible: opts.visible,
      pickable: false,
      getPosition: (b) => b.position,
      getText: (b) => b.text,
      getPixelOffset: (b) => b.offset,
      getSize: 11,
      getColor: [255, 255, 255, 255],
      getTextAnchor: "start",
      getAlignmentBaseline: "bottom",
      characterSet: "0123456789.k",
      fontFamily: "system-ui, sans-serif",
      fontWeight: 700,
      background: true,
      getBackgroundColor: opts.outColour,
      backgroundPadding: [3, 1],
      updateTriggers: { getBackgroundColor: opts.outColour.join(","), getText: opts.dataKey },
    }),
  ];
}
