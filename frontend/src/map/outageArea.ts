/**
 * Which map rows an outage has de-energized: rows the live grid state marks out on the outage's
 * feeder, plus its predicted device. Two outages on one feeder share the feeder's out rows: the grid
 * state does not attribute an out element to one outage, so neither does the map.
 */
import type { MapAssets } from "./assets";

export interface OutageRef {
  feeder_id?: string | null;
  device_id?: string | null;
}

export function outageRows(a: MapAssets, byId: Map<string, number>, out: Uint8Array | null, o: OutageRef): Int32Array {
  const fi = o.feeder_id ? a.feederIds.indexOf(o.feeder_id) : -1;
  const rows: number[] = [];
  if (out && fi >= 0) for (let i = 0; i < a.count; i++) if (out[i] && a.feederCode[i] === fi) rows.push(i);
  const dev = o.device_id ? byId.get(o.device_id) : undefined;
  if (dev !== undefined && !rows.includes(dev)) rows.push(dev);
  return Int32Array.from(rows);
}

/** Every row out now. */
export function outRows(out: Uint8Array | null): Int32Array {
  if (!out) return new Int32Array(0);
  let n = 0;
  for (let i = 0; i < out.length; i++) n += out[i];
  const rows = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < out.length; i++) if (out[i]) rows[j++] = i;
  return rows;
}
