/**
 * The meters payload (`/api/map/meters`, Arrow IPC): ids, positions, and the row of the transformer
 * each hangs on in the map payload (`transformer_row`), so a meter takes its transformer's status.
 */
import { tableFromIPC, type Vector } from "apache-arrow";
import type { MeterData } from "../state/mapData";
import { arrowStrings } from "./arrowStrings";

function strs(col: Vector | null, n: number): string[] {
  return arrowStrings(col, n).map((s) => s ?? "");
}

function rows(col: Vector | null, n: number): Int32Array {
  const out = new Int32Array(n).fill(-1);
  if (!col) return out;
  for (let i = 0; i < n; i++) {
    const v: unknown = col.get(i);
    out[i] = typeof v === "number" ? v : -1;
  }
  return out;
}

export function parseMeters(bytes: ArrayBuffer | Uint8Array): MeterData {
  const t = tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const n = t.numRows;
  const lon = t.getChild("lon");
  const lat = t.getChild("lat");
  const positions = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    positions[2 * i] = Number(lon?.get(i) ?? Number.NaN);
    positions[2 * i + 1] = Number(lat?.get(i) ?? Number.NaN);
  }
  return {
    ids: strs(t.getChild("meter_id") ?? t.getChild("asset_id"), n),
    positions,
    transformerRows: rows(t.getChild("transformer_row"), n),
  };
}
