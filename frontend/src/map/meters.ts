/** The meters payload (`/api/map/meters`, Arrow IPC): ids, positions and the transformer each hangs on. */
import { tableFromIPC, type Vector } from "apache-arrow";
import type { MeterData } from "../state/mapData";

function strs(col: Vector | null, n: number): string[] {
  const out = new Array<string>(n).fill("");
  if (!col) return out;
  for (let i = 0; i < n; i++) out[i] = String(col.get(i) ?? "");
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
    transformerIds: strs(t.getChild("transformer_id"), n),
  };
}
