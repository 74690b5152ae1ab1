/**
 * Street zoom: transformers, poles, switches and protective devices as small discs. Open devices are
 * drawn hollow; normally-open ties get a bright outline so the operator sees where feeders can be tied.
 */
import { ScatterplotLayer } from "@deck.gl/layers";
import type { PointSet } from "../geometry";

export interface EquipmentLayerData {
  points: PointSet;
  colours: Uint8Array;
  /** 1 where the device is open */
  isOpen: Uint8Array;
  /** 1 where the device is a normally-open tie */
  isTie: Uint8Array;
}

export interface EquipmentLayerOpts {
  id: string;
  visible: boolean;
  colourKey: string;
  radiusPx: number;
}

/** Outline RGBA per point: ties yellow, open devices white, others dark. */
export function equipmentOutline(isOpen: Uint8Array, isTie: Uint8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length * 4);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j];
    const c = isTie[r] ? [250, 204, 21, 255] : isOpen[r] ? [255, 255, 255, 255] : [15, 23, 42, 200];
    out.set(c, 4 * j);
  }
  return out;
}

/** Fill RGBA per point: open devices are hollow (alpha 0), closed ones take the status colour. */
export function equipmentFill(colours: Uint8Array, isOpen: Uint8Array, rows: Int32Array): Uint8Array {
  const out = colours.slice();
  for (let j = 0; j < rows.length; j++) if (isOpen[rows[j]]) out[4 * j + 3] = 0;
  return out;
}

export function buildEquipmentLayer(data: EquipmentLayerData, opts: EquipmentLayerOpts): ScatterplotLayer {
  const rows = data.points.rows;
  return new ScatterplotLayer({
    id: opts.id,
    data: {
      length: rows.length,
      attributes: {
        getPosition: { value: data.points.positions, size: 2 },
        getFillColor: { value: equipmentFill(data.colours, data.isOpen, rows), size: 4, normalized: true },
        getLineColor: { value: equipmentOutline(data.isOpen, data.isTie, rows), size: 4, normalized: true },
      },
    },
    visible: opts.visible,
    pickable: true,
    stroked: true,
    radiusUnits: "pixels",
    getRadius: opts.radiusPx,
    lineWidthUnits: "pixels",
    getLineWidth: 1.5,
    updateTriggers: { getFillColor: opts.colourKey, getLineColor: opts.colourKey, getRadius: opts.radiusPx },
  });
}
